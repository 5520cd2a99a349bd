-- The drop folder's refused entries as of this scan (links, FIFOs, sockets, devices, hidden and
-- vanished entries), each with its one-line reason; replaces the previous scan's list.
DELETE FROM refused_entries;
INSERT INTO refused_entries (source_path, kind, reason) SELECT source_path, kind, reason FROM stage_refused;
