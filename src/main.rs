//! The `scopegate` binary: everything lives in the library (see `scopegate::cli`).

/// mimalloc instead of the system allocator: a request makes a few dozen
/// short-lived allocations (hyper's and h2's buffers, tonic's maps, the
/// backend's values), and glibc's malloc/free were ~10 % of the gateway's
/// instructions per request (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(scopegate::cli::main());
}
