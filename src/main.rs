fn main() -> std::process::ExitCode {
    tetris_hdl::cli::main()
}
