//! A deterministic data set shaped like KCT Menswear's, written the way the
//! single-schema shop wrote it: unqualified table names, resolved through
//! `public`. The same seed always gives the same rows.

use std::fmt::Write;

use anyhow::Context;
use strata::sqlx::{self, PgPool};

/// The row counts of the shop's real data.
pub const PRODUCTS: usize = 47;
pub const VARIANTS: usize = 1_134;
pub const CUSTOMERS: usize = 2_821;
pub const SEGMENTS: usize = 7;
const ORDERS: usize = 4_200;

/// SplitMix64, so that a seed means the same rows everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 1..=n
    fn id(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize + 1
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Rows for one table, turned into multi-row INSERTs of at most 1,000 rows.
struct Rows {
    table: &'static str,
    columns: &'static str,
    values: Vec<String>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static str) -> Self {
        Rows {
            table,
            columns,
            values: Vec::new(),
        }
    }

    fn push(&mut self, values: String) {
        self.values.push(values);
    }

    async fn insert(self, pool: &PgPool) -> anyhow::Result<usize> {
        for chunk in self.values.chunks(1_000) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.table,
                self.columns,
                chunk.join("), (")
            );
            sqlx::Executor::execute(pool, sql.as_str())
                .await
                .with_context(|| format!("loading {}", self.table))?;
        }
        Ok(self.values.len())
    }
}

fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn at(day: usize, minute: usize) -> String {
    format!("TIMESTAMPTZ '2024-01-01 09:00:00+00' + interval '{day} days {minute} minutes'")
}

fn day(day: usize) -> String {
    format!("DATE '2024-01-01' + {day}")
}

const SIZES: [&str; 8] = ["36R", "38R", "40R", "42R", "44R", "40L", "42L", "44L"];
const COLORS: [&str; 8] = [
    "navy", "charcoal", "black", "burgundy", "sage", "tan", "ivory", "grey",
];
const GARMENTS: [&str; 6] = ["suit", "tuxedo", "blazer", "vest", "trousers", "overcoat"];
const FABRICS: [&str; 8] = [
    "wool",
    "linen",
    "velvet",
    "tweed",
    "cotton",
    "silk-blend",
    "flannel",
    "seersucker",
];

/// Loads every table of the single-schema shop; returns the rows written per table.
pub async fn load(pool: &PgPool, seed: u64) -> anyhow::Result<Vec<(&'static str, usize)>> {
    let mut rng = Rng(seed);
    let mut loaded = Vec::new();
    let mut add = |name: &'static str, n: usize| loaded.push((name, n));

    let mut users = Rows::new("users", "email, role");
    for i in 1..=14 {
        let role = if i <= 2 { "admin" } else { "staff" };
        users.push(format!(
            "{}, {}",
            text(&format!("staff{i}@kctmenswear.example")),
            text(role)
        ));
    }
    add("users", users.insert(pool).await?);

    let mut suppliers = Rows::new("suppliers", "name, contact_email, country");
    for i in 1..=12 {
        let country = ["IT", "GB", "US", "PT", "TR", "IN"][i % 6];
        suppliers.push(format!(
            "{}, {}, {}",
            text(&format!("Mill {i}")),
            text(&format!("orders@mill{i}.example")),
            text(country)
        ));
    }
    add("suppliers", suppliers.insert(pool).await?);

    let mut palettes = Rows::new("color_palettes", "name, hex");
    for i in 0..16 {
        let hex = format!("#{:06x}", rng.next() & 0xFF_FFFF);
        palettes.push(format!("{}, {}", text(&format!("palette-{i}")), text(&hex)));
    }
    add("color_palettes", palettes.insert(pool).await?);

    let mut events = Rows::new("event_profiles", "name, dress_code");
    for (i, code) in [
        "black tie",
        "cocktail",
        "business",
        "beach",
        "garden",
        "prom",
    ]
    .iter()
    .cycle()
    .take(12)
    .enumerate()
    {
        events.push(format!("{}, {}", text(&format!("event-{i}")), text(code)));
    }
    add("event_profiles", events.insert(pool).await?);

    let mut collections = Rows::new("collections", "slug, title, season");
    for i in 1..=9 {
        let season = ["spring", "summer", "autumn", "winter"][i % 4];
        collections.push(format!(
            "{}, {}, {}",
            text(&format!("collection-{i}")),
            text(&format!("Collection {i}")),
            text(season)
        ));
    }
    add("collections", collections.insert(pool).await?);

    let mut products = Rows::new(
        "products",
        "sku, name, description, base_price_cents, supplier_id, active, created_at",
    );
    let mut price = vec![0_i64; PRODUCTS + 1];
    for p in 1..=PRODUCTS {
        price[p] = 19_900 + (rng.below(110) as i64) * 1_000;
        let name = format!(
            "{} {}",
            FABRICS[p % FABRICS.len()],
            GARMENTS[p % GARMENTS.len()]
        );
        products.push(format!(
            "{}, {}, {}, {}, {}, {}, {}",
            text(&format!("P-{p:03}")),
            text(&name),
            text(&format!("The {name}, cut in house.")),
            price[p],
            rng.id(12),
            p % 11 != 0,
            at(p, 0)
        ));
    }
    add("products", products.insert(pool).await?);

    let mut variants = Rows::new(
        "product_variants",
        "product_id, sku, size, color, price_cents, stock",
    );
    let mut variant_product = vec![0_usize; VARIANTS + 1];
    for v in 1..=VARIANTS {
        let p = (v - 1) % PRODUCTS + 1;
        variant_product[v] = p;
        variants.push(format!(
            "{p}, {}, {}, {}, {}, {}",
            text(&format!("V-{v:05}")),
            text(SIZES[v % SIZES.len()]),
            text(COLORS[(v / SIZES.len()) % COLORS.len()]),
            price[p],
            rng.below(40)
        ));
    }
    add("product_variants", variants.insert(pool).await?);

    let mut images = Rows::new("product_images", "product_id, url, position");
    for p in 1..=PRODUCTS {
        for position in 0..3 {
            images.push(format!(
                "{p}, {}, {position}",
                text(&format!("https://img.kct.example/{p}/{position}.jpg"))
            ));
        }
    }
    add("product_images", images.insert(pool).await?);

    let mut in_collections = Rows::new("product_collections", "product_id, collection_id");
    for p in 1..=PRODUCTS {
        in_collections.push(format!("{p}, {}", p % 9 + 1));
        in_collections.push(format!("{p}, {}", (p + 4) % 9 + 1));
    }
    add("product_collections", in_collections.insert(pool).await?);

    let mut customers = Rows::new("customers", "email, full_name, phone, note, created_at");
    for c in 1..=CUSTOMERS {
        let note = if c % 13 == 0 {
            text("wedding party")
        } else {
            "NULL".to_owned()
        };
        customers.push(format!(
            "{}, {}, {}, {note}, {}",
            text(&format!("customer{c}@example.com")),
            text(&format!("Customer {c}")),
            text(&format!("+1-555-{:04}", c % 10_000)),
            at(c % 700, c % 600)
        ));
    }
    add("customers", customers.insert(pool).await?);

    let mut reviews = Rows::new("product_reviews", "product_id, customer_id, rating, body");
    for _ in 0..600 {
        let rating = 1 + rng.below(5);
        reviews.push(format!(
            "{}, {}, {rating}, {}",
            rng.id(PRODUCTS),
            rng.id(CUSTOMERS),
            text("fits well")
        ));
    }
    add("product_reviews", reviews.insert(pool).await?);

    let mut purchase_orders = Rows::new("purchase_orders", "supplier_id, ordered_on, status");
    let mut po_items = Rows::new(
        "purchase_order_items",
        "purchase_order_id, line, variant_id, quantity, unit_cost_cents",
    );
    for po in 1..=60 {
        let status = if po % 4 == 0 { "open" } else { "received" };
        purchase_orders.push(format!("{}, {}, {}", rng.id(12), day(po * 5), text(status)));
        for line in 1..=1 + rng.below(6) {
            let v = rng.id(VARIANTS);
            po_items.push(format!(
                "{po}, {line}, {v}, {}, {}",
                5 + rng.below(50),
                price[variant_product[v]] / 3
            ));
        }
    }
    add("purchase_orders", purchase_orders.insert(pool).await?);
    add("purchase_order_items", po_items.insert(pool).await?);

    let mut logs = Rows::new("inventory_logs", "variant_id, delta, reason, logged_at");
    for i in 0..2_400 {
        let delta = rng.below(21) as i64 - 10;
        let reason = if delta >= 0 { "restock" } else { "sale" };
        logs.push(format!(
            "{}, {delta}, {}, {}",
            rng.id(VARIANTS),
            text(reason),
            at(i % 365, i % 1_440)
        ));
    }
    add("inventory_logs", logs.insert(pool).await?);

    let mut alerts = Rows::new("stock_alerts", "variant_id, threshold");
    for i in 0..35 {
        alerts.push(format!("{}, {}", i * 31 + 1, 2 + rng.below(5)));
    }
    add("stock_alerts", alerts.insert(pool).await?);

    let mut orders = Rows::new("orders", "customer_id, status, total_cents, placed_at");
    let mut items = Rows::new(
        "order_items",
        "order_id, line, product_id, variant_id, quantity, unit_price_cents",
    );
    for o in 1..=ORDERS {
        let mut total = 0;
        for line in 1..=1 + rng.below(4) {
            let p = rng.id(PRODUCTS);
            // A variant of that product: variants cycle through the products.
            let variants_of_p = (VARIANTS - p) / PRODUCTS + 1;
            let v = p + PRODUCTS * rng.below(variants_of_p);
            let quantity = 1 + rng.below(3);
            total += price[p] * quantity as i64;
            items.push(format!("{o}, {line}, {p}, {v}, {quantity}, {}", price[p]));
        }
        let status = ["paid", "shipped", "delivered", "returned"][rng.below(4)];
        orders.push(format!(
            "{}, {}, {total}, {}",
            rng.id(CUSTOMERS),
            text(status),
            at(o % 730, o % 1_440)
        ));
    }
    add("orders", orders.insert(pool).await?);
    add("order_items", items.insert(pool).await?);

    let mut appointments = Rows::new("appointments", "customer_id, starts_at, kind, stylist");
    for i in 0..1_500 {
        let kind = ["fitting", "consultation", "alteration", "pickup"][i % 4];
        appointments.push(format!(
            "{}, {}, {}, {}",
            rng.id(CUSTOMERS),
            at(i % 400, (i * 37) % 480),
            text(kind),
            text(&format!("stylist-{}", i % 6))
        ));
    }
    add("appointments", appointments.insert(pool).await?);

    let mut leads = Rows::new("leads", "email, source, converted");
    for i in 0..600 {
        let source = ["instagram", "wedding-fair", "referral", "google"][i % 4];
        leads.push(format!(
            "{}, {}, {}",
            text(&format!("lead{i}@example.net")),
            text(source),
            i % 5 == 0
        ));
    }
    add("leads", leads.insert(pool).await?);

    let mut measurements = Rows::new(
        "measurements",
        "customer_id, taken_on, chest_cm, waist_cm, inseam_cm, sleeve_cm",
    );
    for i in 0..2_100 {
        let chest = 88 + rng.below(30);
        measurements.push(format!(
            "{}, {}, {chest}.5, {}, {}, {}",
            rng.id(CUSTOMERS),
            day(i % 500),
            chest - 14,
            76 + rng.below(12),
            if i % 3 == 0 {
                "NULL".to_owned()
            } else {
                format!("{}", 60 + rng.below(8))
            }
        ));
    }
    add("measurements", measurements.insert(pool).await?);

    let mut profiles = Rows::new(
        "customer_profiles",
        "customer_id, preferred_fit, style_notes",
    );
    for c in 1..=1_900 {
        let fit = ["slim", "classic", "modern"][c % 3];
        profiles.push(format!("{c}, {}, NULL", text(fit)));
    }
    add("customer_profiles", profiles.insert(pool).await?);

    let mut histories = Rows::new(
        "purchase_histories",
        "customer_id, purchased_on, amount_cents",
    );
    for i in 0..3_000 {
        histories.push(format!(
            "{}, {}, {}",
            rng.id(CUSTOMERS),
            day(i % 900),
            5_000 + rng.below(200) * 500
        ));
    }
    add("purchase_histories", histories.insert(pool).await?);

    let mut saved = Rows::new("saved_outfits", "customer_id, title");
    for i in 0..800 {
        saved.push(format!(
            "{}, {}",
            rng.id(CUSTOMERS),
            text(&format!("look {i}"))
        ));
    }
    add("saved_outfits", saved.insert(pool).await?);

    let mut templates = Rows::new("outfit_templates", "name, occasion");
    let mut components = Rows::new("outfit_components", "outfit_template_id, product_id, role");
    for t in 1..=25 {
        templates.push(format!(
            "{}, {}",
            text(&format!("template-{t}")),
            text(["wedding", "office", "gala", "summer"][t % 4])
        ));
        for j in 0..4 + t % 2 {
            components.push(format!(
                "{t}, {}, {}",
                (t * 7 + j * 11) % PRODUCTS + 1,
                text(["jacket", "trousers", "vest", "tie", "shoes"][j])
            ));
        }
    }
    add("outfit_templates", templates.insert(pool).await?);
    add("outfit_components", components.insert(pool).await?);

    let mut segments = Rows::new(
        "customer_segments",
        "name, rule, member_count, refreshed_at",
    );
    for (i, name) in [
        "grooms",
        "wedding-party",
        "vip",
        "lapsed",
        "new",
        "prom",
        "corporate",
    ]
    .iter()
    .enumerate()
    {
        segments.push(format!(
            "{}, {}, {}, {}",
            text(name),
            text(&format!("rule {i}")),
            100 + rng.below(900),
            at(i, 0)
        ));
    }
    add("customer_segments", segments.insert(pool).await?);

    let mut actions = Rows::new(r#""AiAction""#, "action, payload, created_at");
    let mut payload = String::new();
    for i in 0..250 {
        payload.clear();
        let _ = write!(
            payload,
            r#"{{"customer": {}, "suggested": {}}}"#,
            rng.id(CUSTOMERS),
            rng.id(PRODUCTS)
        );
        actions.push(format!(
            "{}, {}::jsonb, {}",
            text(["suggest-outfit", "size-check", "restock-hint"][i % 3]),
            text(&payload),
            at(i % 90, i % 1_440)
        ));
    }
    add("AiAction", actions.insert(pool).await?);

    Ok(loaded)
}
