-- (c) floor: order counts and totals by fulfilment status for one account, one GROUP BY.
SELECT fulfillment_status, currency, count(*), sum(total_minor)
FROM orders
WHERE organization_id = :org AND account_id = :acc
GROUP BY fulfillment_status, currency;
