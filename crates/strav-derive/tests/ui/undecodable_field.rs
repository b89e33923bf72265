#[derive(strav_orm::Model)]
#[strav(table = "orders")]
struct Order {
    #[strav(primary_key)]
    id: i64,
    started: std::time::Instant,
}

fn main() {}
