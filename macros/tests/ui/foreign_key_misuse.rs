#[strata::schema("osm")]
#[foreign_key(columns = ["node_id", "version"], references = "osm.nodes(node_id)")]
#[foreign_key(columns = ["node_id"])]
#[foreign_key(columns = ["missing"], references = "osm.nodes(node_id)", on_delete = "explode")]
pub struct NodeTag {
    #[column(primary_key)]
    pub node_id: i64,
    pub version: i64,
}

fn main() {}
