//! The local terminal: raw mode, alternate screen and bracketed paste on the way in, and the
//! same undone on the way out — on a normal exit, an error, a panic or a signal.

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use std::io::{self, Stdout};
use std::mem::ManuallyDrop;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in the console's state (raw, alternate screen) right now.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back in its normal state. Safe to call more than once: only the first
/// call after [`Guard::enter`] writes anything. (A second "leave the alternate screen" would
/// restore the cursor saved on entry and let the shell prompt overwrite a panic message.)
/// Errors are ignored — after a hang-up there is no terminal left to restore.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

static HOOK: Once = Once::new();

/// Restores the terminal before the default panic message is printed, so the message is
/// readable and the shell is usable.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Owns the terminal while the console runs; dropping it restores the terminal.
pub struct Guard {
    pub terminal: ManuallyDrop<Term>,
}

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(terminal) => Ok(Guard {
                terminal: ManuallyDrop::new(terminal),
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
        // ratatui's own Drop shows the cursor and, if that fails, reports it with eprintln!,
        // which panics when stderr is a terminal that hung up (a closed SSH connection or
        // terminal window). Show it here instead; when the terminal is gone, skip that Drop
        // (the process is exiting; nothing but the write buffer is left behind).
        if self.terminal.show_cursor().is_ok() {
            // SAFETY: dropped exactly once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.terminal) };
        }
    }
}
