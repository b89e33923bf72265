#[derive(strav_orm::Model)]
struct Order {
    #[strav(primary_key)]
    id: i64,
}

fn main() {}
