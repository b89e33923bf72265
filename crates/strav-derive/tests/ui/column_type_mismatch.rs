#[derive(strav_orm::Model)]
#[strav(table = "orders")]
struct Order {
    #[strav(primary_key)]
    id: i64,
    total: i64,
}

fn main() {
    let _ = Order::query().filter(Order::TOTAL.eq("lots"));
}
