fn main() -> std::process::ExitCode {
    raibid::cli::main()
}
