#[derive(strav_orm::Model)]
#[strav(table = "orders")]
struct Order {
    id: i64,
    note: String,
}

fn main() {}
