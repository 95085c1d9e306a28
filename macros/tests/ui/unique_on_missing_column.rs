#[strata::schema("shop", table = "wishlist_items")]
#[unique(columns = ["profile_id", "product"], name = "unique_wishlist_item")]
pub struct WishlistItem {
    #[column(primary_key, identity)]
    pub id: i64,
    pub profile_id: i64,
    pub product_id: i64,
}

fn main() {}
