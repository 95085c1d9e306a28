//! Liventix's data, as it was in the single `public` schema: the report's
//! counts, deterministic from a seed (PostgreSQL's `setseed`, on one
//! connection, in one transaction).

use strata::sqlx::{self, Connection, PgConnection};

/// The tables the Liventix report counted, by their names in `public`, and
/// how many rows each held.
pub const REPORTED: &[(&str, i64)] = &[
    ("user_profiles", 509),
    ("organizations", 4),
    ("org_members", 2),
    ("events", 11),
    ("event_posts", 21),
    ("post_comments", 14),
    ("tickets", 80),
    ("orders", 178),
    ("analytics_events", 206_610),
    ("message_jobs", 27),
    ("invoices", 6),
];

/// How many months of analytics the data spans, up to the current one.
pub const ANALYTICS_MONTHS: i64 = 39;

/// Each statement fills one table, drawing on `random()` after the seed is set.
const LOAD: &[&str] = &[
    "INSERT INTO public.countries (code, name) VALUES
        ('US', 'United States'), ('GB', 'United Kingdom'), ('DE', 'Germany'),
        ('FR', 'France'), ('NG', 'Nigeria'), ('CA', 'Canada')",
    "INSERT INTO public.currencies (code, name) VALUES
        ('USD', 'US dollar'), ('EUR', 'Euro'), ('GBP', 'Pound sterling')",
    "INSERT INTO public.event_categories (slug, name) VALUES
        ('music', 'Music'), ('tech', 'Technology'), ('sport', 'Sport'),
        ('food', 'Food and drink'), ('art', 'Art'), ('business', 'Business')",
    "INSERT INTO public.timezones (name, utc_offset_minutes) VALUES
        ('UTC', 0), ('Europe/London', 0), ('America/New_York', -300), ('Africa/Lagos', 60)",
    "INSERT INTO public.app_settings (key, value) VALUES ('maintenance', 'off'), ('signup', 'open')",
    "INSERT INTO public.user_profiles (email, display_name, country_code, created_at)
     SELECT 'user' || n || '@liventix.example', 'User ' || n,
            (ARRAY['US', 'GB', 'DE', 'FR', 'NG', 'CA'])[1 + floor(random() * 6)::int],
            now() - random() * interval '900 days'
     FROM generate_series(1, 509) AS n",
    "INSERT INTO public.user_settings (user_id, locale, marketing_opt_in)
     SELECT n, (ARRAY['en', 'fr', 'de'])[1 + floor(random() * 3)::int], random() < 0.3
     FROM generate_series(1, 120) AS n",
    "INSERT INTO public.organizations (slug, name) VALUES
        ('soundwave', 'Soundwave Live'), ('techmeet', 'TechMeet'),
        ('kickoff', 'Kickoff Sports'), ('tastefest', 'TasteFest')",
    "INSERT INTO public.org_members (org_id, user_id, role) VALUES (1, 1, 'owner'), (2, 2, 'owner')",
    "INSERT INTO public.org_settings (org_id, plan, seats) VALUES
        (1, 'pro', 20), (2, 'pro', 10), (3, 'free', 5), (4, 'free', 5)",
    "INSERT INTO public.venues (name, city, country_code) VALUES
        ('Harbour Hall', 'London', 'GB'), ('Tempelhof Arena', 'Berlin', 'DE'),
        ('Eko Centre', 'Lagos', 'NG'), ('Pier 9', 'New York', 'US'), ('Salle Pleyel', 'Paris', 'FR')",
    "INSERT INTO public.events (org_id, category_id, venue_id, title, starts_at, published)
     SELECT 1 + (n % 4), 1 + (n % 6), 1 + (n % 5), 'Event ' || n,
            now() + (n * 11) * interval '1 day', n % 3 <> 0
     FROM generate_series(1, 11) AS n",
    "INSERT INTO public.event_posts (org_id, event_id, author_id, body)
     SELECT e.org_id, e.id, 1 + floor(random() * 509)::int, 'Post ' || n
     FROM generate_series(1, 21) AS n JOIN public.events e ON e.id = 1 + (n % 11)",
    "INSERT INTO public.post_comments (org_id, post_id, author_id, body)
     SELECT p.org_id, p.id, 1 + floor(random() * 509)::int, 'Comment ' || n
     FROM generate_series(1, 14) AS n JOIN public.event_posts p ON p.id = 1 + (n % 21)",
    "INSERT INTO public.ticket_tiers (org_id, event_id, name, price_cents, capacity)
     SELECT e.org_id, e.id, tier.name, tier.price, tier.capacity
     FROM public.events e
     CROSS JOIN (VALUES ('General', 2500, 500), ('VIP', 12000, 50)) AS tier(name, price, capacity)
     ORDER BY e.id, tier.price",
    "INSERT INTO public.tickets (org_id, event_id, tier_id, holder_id, code, status)
     SELECT t.org_id, t.event_id, t.id, 1 + floor(random() * 509)::int,
            'LVX-' || lpad(n::text, 6, '0'), CASE WHEN random() < 0.1 THEN 'used' ELSE 'issued' END
     FROM generate_series(1, 80) AS n JOIN public.ticket_tiers t ON t.id = 1 + (n % 22)",
    "INSERT INTO public.orders (org_id, buyer_id, event_id, total_cents, currency, placed_at)
     SELECT e.org_id, 1 + floor(random() * 509)::int, e.id, 2500 * (1 + floor(random() * 4)::int),
            (ARRAY['USD', 'EUR', 'GBP'])[1 + floor(random() * 3)::int], now() - random() * interval '300 days'
     FROM generate_series(1, 178) AS n JOIN public.events e ON e.id = 1 + (n % 11)",
    "INSERT INTO public.order_items (order_id, line, ticket_id, price_cents)
     SELECT o.id, 1, NULL, o.total_cents FROM public.orders o",
    "INSERT INTO public.message_jobs (org_id, channel, recipient, status, scheduled_at)
     SELECT 1 + (n % 4), (ARRAY['email', 'sms', 'push'])[1 + (n % 3)], 'user' || n || '@liventix.example',
            CASE WHEN n % 5 = 0 THEN 'sent' ELSE 'queued' END, now() + n * interval '1 hour'
     FROM generate_series(1, 27) AS n",
    "INSERT INTO public.invoices (org_id, number, amount_cents, currency)
     SELECT 1 + (n % 4), 'INV-2026-' || lpad(n::text, 4, '0'), 4900 * n, 'USD'
     FROM generate_series(1, 6) AS n",
    // 206,610 analytics events over the current month and the 38 before it.
    "INSERT INTO public.analytics_events (occurred_at, org_id, event_id, user_id, name)
     SELECT start + random() * (now() - start), 1 + floor(random() * 4)::int,
            1 + floor(random() * 11)::int, 1 + floor(random() * 509)::int,
            (ARRAY['page_view', 'ticket_view', 'checkout', 'purchase', 'share'])[1 + floor(random() * 5)::int]
     FROM generate_series(1, 206610) AS n,
          (SELECT date_trunc('month', now()) - interval '38 months' AS start) AS s",
];

/// Loads the data, all or nothing.
pub async fn load(conn: &mut PgConnection, seed: f64) -> anyhow::Result<()> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT setseed($1)")
        .bind(seed)
        .execute(&mut *tx)
        .await?;
    for statement in LOAD {
        sqlx::raw_sql(statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
