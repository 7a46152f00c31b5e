-- The monthly rollup per organisation goes. A commune's incidents are sparse across the keys
-- organisation × province × category × outcome × month: in the national benchmark it held
-- 289,095 rows beside the daily counters' 299,602 at 300,000 incidents, and 891,760 beside
-- 995,706 at 1,000,000, so a report read about as many rows from it as from the daily
-- counters, while every incident write added to one more row. Unit-level figures now come
-- from the daily counters alone; national and provincial figures keep their monthly and
-- yearly rollups, which sum thousands of organisations.
DROP TABLE incident_counters_monthly;
