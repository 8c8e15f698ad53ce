//! Where things live: the platform data directory and the default database URL.

use std::path::PathBuf;

/// The platform data directory (e.g. `~/.local/share/rustok` on Linux), or
/// `RUSTOK_DATA_DIR` when set.
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RUSTOK_DATA_DIR") {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("dev", "rustok", "rustok")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".rustok"))
}

/// The embedded SQLite database in the data directory, creating the directory if needed.
pub fn default_db_url() -> std::io::Result<String> {
    let dir = data_dir();
    std::fs::create_dir_all(&dir)?;
    Ok(format!("sqlite://{}", dir.join("rustok.db").display()))
}

/// The platform config directory (e.g. `~/.config/rustok`), or `RUSTOK_CONFIG_DIR` when set:
/// `config.toml`, `keymap.toml` and `themes/*.toml` live here.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RUSTOK_CONFIG_DIR") {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("dev", "rustok", "rustok")
        .map(|p| p.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".rustok"))
}
