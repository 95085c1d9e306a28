CREATE TRIGGER customers_audit AFTER INSERT OR UPDATE OR DELETE ON tenant_kct.customers
FOR EACH ROW EXECUTE FUNCTION audit.log_change();
