//! The stand-in `mirrord` (see the library's docs).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(fixproof_standin::main(&args));
}
