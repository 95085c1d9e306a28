CREATE FUNCTION shop.total(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT coalesce(sum(total_cents), 0) FROM shop.orders WHERE updated_at >= since $$;
