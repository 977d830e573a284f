//! The `cartseq` command line. The work is done by the `cartseq` library (`src/lib.rs`); this binary
//! only parses flags (`cli::args`), calls the library and writes results (`cli::commands`, one file
//! per subcommand).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
