#[derive(strav_orm::Model)]
#[strav(table = "orders")]
struct Order {
    #[strav(primry_key)]
    id: i64,
}

fn main() {}
