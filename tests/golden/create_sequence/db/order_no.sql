CREATE SEQUENCE shop.order_no AS bigint START WITH 1000 CACHE 10 OWNED BY shop.orders.number;
