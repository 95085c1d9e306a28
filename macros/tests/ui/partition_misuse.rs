// A hash partitioning needs its count; `partitions` goes only with it; and
// a hash table has no default partition.
#[strata::schema("analytics", partition_by = "hash(id)")]
pub struct A {
    #[column(primary_key, identity)]
    pub id: i64,
}

#[strata::schema("analytics", partition_by = "list(id)", partitions = 4)]
pub struct B {
    #[column(primary_key, identity)]
    pub id: i64,
}

#[strata::schema("analytics", partition_by = "hash(id)", partitions = 4, default_partition)]
pub struct C {
    #[column(primary_key, identity)]
    pub id: i64,
}

#[strata::schema("analytics", partition_by = "spread(id)")]
pub struct D {
    #[column(primary_key, identity)]
    pub id: i64,
}

fn main() {}
