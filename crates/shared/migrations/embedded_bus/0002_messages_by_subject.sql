-- A group's new messages are found by subject from its cursor on, whatever else the log holds
-- past the cursor: without it, a group that nothing was published for kept its cursor at the
-- start, and each look for its new messages read the whole log.
CREATE INDEX bus_messages_by_subject ON bus_messages (subject, seq);
