//! The `hookgate` binary: a thin CLI over the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A reader that stops early (`hookgate locks | head`) ends a command
    // quietly, as for any Unix tool. Not for `hook`: a platform that closes
    // the pipe must still get an exit code, never a signal (Cline blocks on
    // anything but 0).
    #[cfg(unix)]
    if std::env::args().nth(1).as_deref() != Some("hook") {
        // SAFETY: restoring the default disposition of SIGPIPE at start-up,
        // before any thread exists, is what every Unix program starts with.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    cli::main()
}
