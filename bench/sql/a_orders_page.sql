-- (a) floor: the 50 newest orders with account, active waybill and lines with SKUs, one statement.
SELECT o.id, o.platform_order_id, o.fulfillment_status, o.total_minor, o.currency, a.name, w.tracking_number,
       (SELECT json_agg(json_build_object('quantity', i.quantity, 'code', s.code))
          FROM order_items i LEFT JOIN skus s ON s.id = i.sku_id WHERE i.order_id = o.id)
FROM orders o
JOIN accounts a ON a.id = o.account_id
LEFT JOIN waybills w ON w.order_id = o.id AND w.status <> 'CANCELLED'
WHERE o.organization_id = :org
ORDER BY o.id DESC
LIMIT 50;
