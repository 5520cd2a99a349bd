-- The waivers file is the truth: replace the table with its staged rows.
DELETE FROM waivers;
INSERT INTO waivers BY NAME SELECT * FROM stage_waivers;
