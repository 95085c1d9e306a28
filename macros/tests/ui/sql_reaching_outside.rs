// Text given as an SQL expression or a view's query is one expression or
// one query: nothing in it may end the statement strata writes or add to it.
#[strata::view("analytics", sql = "SELECT 1 AS one; DROP TABLE victim.keep")]
pub struct Smuggled {
    pub one: i32,
}

#[strata::view("analytics", sql = "DELETE FROM victim.keep RETURNING 1 AS one")]
pub struct NotAQuery {
    pub one: i32,
}

#[strata::schema("shop", rls)]
#[index(columns = ["sku"], where = "deleted; DROP TABLE x")]
#[policy(name = "open", to = "app_user", using = "true) WITH CHECK (true")]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(check = "true), CONSTRAINT sneaky CHECK (true")]
    pub sku: String,
    #[column(default = "now() -- when it was made")]
    pub made_at: String,
    #[column(default = "1, extra integer")]
    pub stock: i32,
    #[column(generated = "'unclosed")]
    pub label: String,
    #[column(type = "integer, smuggled text")]
    pub count: i32,
    // A `;`, a `)` or `--` inside a string literal is text, and fine.
    #[column(default = "'a;b) -- c'", check = "note <> 'x;y'")]
    pub note: String,
}

fn main() {}
