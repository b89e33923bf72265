use strav_orm::{with_schema, without_schema};
use strav_tests::TestDb;

#[tokio::test]
async fn smoke() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    db.sql("CREATE SCHEMA a").execute().await.unwrap();
    db.sql("CREATE TABLE a.m (v text)").execute().await.unwrap();
    db.sql("INSERT INTO a.m VALUES ('a')")
        .execute()
        .await
        .unwrap();
    let v: String = with_schema("a", async {
        db.sql("SELECT v FROM m").fetch_scalar().await
    })
    .await
    .unwrap();
    assert_eq!(v, "a");
    let e =
        without_schema(async { db.sql("SELECT v FROM m").fetch_scalar::<String>().await }).await;
    assert!(e.is_err());
}
