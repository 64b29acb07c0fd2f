//! The admin portal. Its REST API, web UI and Postgres store are the control-plane issue's work; until
//! they land, this binary says so and exits, so nobody mistakes it for a working portal.

fn main() {
    eprintln!(
        "gateway-portal is not built yet: the control plane (Postgres store, admin API, web UI) is tracked as \
         its own issue. Run the data plane standalone with `gateway-web --config FILE`."
    );
    std::process::exit(2);
}
