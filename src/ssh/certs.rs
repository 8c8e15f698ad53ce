//! OpenSSH user certificates (`serve --user-ca FILE`): a certificate signed by a trusted CA
//! logs in as the staff member its principal names, with that member's role from the
//! database. Checked on every login: the CA, the signature, the validity window, the
//! principal, critical options (`source-address` is enforced, any other refuses the
//! certificate), the revocation list, and that the member exists and is active.

use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::{Certificate, Fingerprint};
use russh::keys::{HashAlg, PublicKey};
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// File name of the revocation list in the data directory (`rustok staff revoke-cert`).
pub const REVOKED_FILE: &str = "revoked_certs";

/// The revocation list's default place.
pub fn default_revoked_path() -> PathBuf {
    crate::config::data_dir().join(REVOKED_FILE)
}

/// Trusted user CAs and where revocations are read from.
#[derive(Debug, Clone)]
pub struct UserCa {
    cas: Vec<Fingerprint>,
    revoked: PathBuf,
}

impl UserCa {
    /// Reads CA public keys from `path`: OpenSSH public key lines, optionally prefixed with
    /// `cert-authority` as in `authorized_keys`.
    pub fn load(path: &Path, revoked: PathBuf) -> Result<UserCa, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the user CA file {}: {e}", path.display()))?;
        let mut cas = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("cert-authority ").unwrap_or(line).trim();
            let key = PublicKey::from_openssh(line)
                .map_err(|e| format!("the user CA file {} holds a bad key: {e}", path.display()))?;
            if let Some(why) = super::server::key_weakness(&key, false) {
                return Err(format!("user CA key refused: {why}"));
            }
            cas.push(key.fingerprint(HashAlg::Sha256));
        }
        if cas.is_empty() {
            return Err(format!("the user CA file {} holds no key", path.display()));
        }
        Ok(UserCa { cas, revoked })
    }

    /// Checks `cert` for a login as `user` from `peer` (everything but the staff member).
    pub fn check(
        &self,
        user: &str,
        cert: &Certificate,
        peer: Option<IpAddr>,
    ) -> Result<(), String> {
        if cert.cert_type() != CertType::User {
            return Err("not a user certificate".into());
        }
        cert.validate(self.cas.iter())
            .map_err(|e| format!("certificate refused: {e} (untrusted CA, bad signature, or outside its validity window)"))?;
        if !cert.valid_principals().iter().any(|p| p == user) {
            return Err(format!(
                "certificate serial {} is not valid for '{}' (principals: {})",
                cert.serial(),
                super::refusals::client_text(user),
                super::refusals::client_text(&cert.valid_principals().join(","))
            ));
        }
        for (name, value) in cert.critical_options().iter() {
            match name.as_str() {
                "source-address" => {
                    let ok = peer.is_some_and(|ip| {
                        value.split(',').any(|cidr| cidr_contains(cidr.trim(), ip))
                    });
                    if !ok {
                        return Err(format!(
                            "certificate serial {} is not valid from this address",
                            cert.serial()
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "certificate serial {} has an unsupported critical option '{}'",
                        cert.serial(),
                        super::refusals::client_text(other)
                    ));
                }
            }
        }
        let revoked = Revoked::read(&self.revoked)?;
        let key_fp = cert.public_key().fingerprint(HashAlg::Sha256).to_string();
        if revoked.serials.contains(&cert.serial()) || revoked.keys.contains(&key_fp) {
            return Err(format!("certificate serial {} is revoked", cert.serial()));
        }
        Ok(())
    }
}

/// The revocation list: serials, and fingerprints of certified keys.
#[derive(Debug, Default)]
pub struct Revoked {
    pub serials: HashSet<u64>,
    pub keys: HashSet<String>,
}

impl Revoked {
    /// Reads `path` (one serial or `SHA256:` key fingerprint per line, `#` comments). A
    /// missing file revokes nothing; an unreadable one refuses every certificate.
    pub fn read(path: &Path) -> Result<Revoked, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Revoked::default()),
            Err(e) => {
                return Err(format!(
                    "cannot read the certificate revocation list {}: {e}",
                    path.display()
                ));
            }
        };
        let mut r = Revoked::default();
        for line in text.lines().map(str::trim) {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if let Ok(serial) = line
                .trim_start_matches("serial")
                .trim_start_matches(':')
                .trim()
                .parse()
            {
                r.serials.insert(serial);
            } else if line.starts_with("SHA256:") {
                r.keys.insert(line.to_string());
            }
        }
        Ok(r)
    }

    /// Appends `serial` to the list at `path` (created with mode 0600).
    pub fn append(path: &Path, serial: u64, note: &str) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        writeln!(f, "{serial} # {note}")?;
        f.sync_all()
    }
}

/// Whether `ip` is in `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a single address).
fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    let ip = match (net, ip) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        _ => ip,
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_are_matched_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(cidr_contains("10.0.0.0/8", ip("10.1.2.3")));
        assert!(!cidr_contains("10.0.0.0/8", ip("11.1.2.3")));
        assert!(cidr_contains("127.0.0.1", ip("127.0.0.1")));
        assert!(!cidr_contains("127.0.0.1", ip("127.0.0.2")));
        assert!(cidr_contains("10.0.0.0/8", ip("::ffff:10.9.9.9")));
        assert!(cidr_contains("2001:db8::/32", ip("2001:db8:1::5")));
        assert!(!cidr_contains("2001:db8::/32", ip("2001:db9::5")));
        assert!(!cidr_contains("garbage", ip("10.0.0.1")));
    }

    #[test]
    fn the_revocation_list_reads_serials_and_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked");
        assert!(Revoked::read(&path).unwrap().serials.is_empty());
        Revoked::append(&path, 42, "revoked by olivia").unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                use std::io::Write;
                writeln!(f, "serial: 7\nSHA256:abc # a key\n# comment")
            })
            .unwrap();
        let r = Revoked::read(&path).unwrap();
        assert_eq!(r.serials, HashSet::from([42, 7]));
        assert!(r.keys.contains("SHA256:abc"));
    }
}
