-- Enqueue's cap check and insert as one statement (CallStore.insertWithin on Postgres): the user's
-- advisory lock, the count of their pending calls and the insert run on the server in one round
-- trip, so the lock is held for the count and the insert only, never across a client's round trips.
-- In a volatile function each statement sees what was committed before it began, so the count
-- after the lock sees every call inserted by an earlier holder. The statuses that count are the
-- runner's `pending` (src/runner/calls.ts), written out so the count can use the partial index
-- tool_calls_pending (0006). Answers inserted, duplicate or full.
CREATE OR REPLACE FUNCTION onbehalf_insert_call(
  p_lock text, p_cap bigint,
  p_id text, p_org_id text, p_user_id text, p_server_id text, p_tool text, p_args jsonb,
  p_reply_target jsonb, p_request_id text, p_turn_id text, p_updated_at bigint
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(p_lock));
  IF (SELECT count(*) FROM tool_calls
      WHERE org_id = p_org_id AND user_id = p_user_id
        AND status IN ('queued', 'running', 'awaiting_approval')) >= p_cap THEN
    -- A redelivery answers duplicate even at the cap.
    RETURN CASE WHEN EXISTS (SELECT 1 FROM tool_calls WHERE id = p_id) THEN 'duplicate' ELSE 'full' END;
  END IF;
  INSERT INTO tool_calls (id, org_id, user_id, server_id, tool, args, status, reply_target, request_id, turn_id, updated_at)
  VALUES (p_id, p_org_id, p_user_id, p_server_id, p_tool, p_args, 'queued', p_reply_target, p_request_id, p_turn_id, p_updated_at)
  ON CONFLICT DO NOTHING;
  RETURN CASE WHEN FOUND THEN 'inserted' ELSE 'duplicate' END;
END
$$;
