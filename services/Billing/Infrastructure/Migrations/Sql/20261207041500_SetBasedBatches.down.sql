-- Back to one ledger_hold / ledger_resolve call per operation (as 20261206010451_HolderLeases made it).
-- Many holds and captures in one transaction (one commit for all). Each operation locks one wallet;
-- they run in wallet order (a capture's wallet is its open hold's), as in every concurrent batch, so
-- batches cannot deadlock each other. Any error rolls the whole batch back; Ledger then runs its
-- operations one by one.
CREATE OR REPLACE FUNCTION ledger_batch(p_is_hold boolean[], p_ids uuid[], p_targets uuid[], p_amounts bigint[], p_expires timestamptz[],
                                        p_reasons text[], p_models text[], p_inputs bigint[], p_outputs bigint[], p_holders uuid[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql AS $$
DECLARE i int; r ledger_result;
BEGIN
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i)
             ORDER BY CASE WHEN p_is_hold[s.i] THEN p_targets[s.i]
                           ELSE COALESCE((SELECT o.wallet_id FROM open_holds o WHERE o.hold_id = p_targets[s.i]),
                                         (SELECT t.wallet_id FROM transfers t WHERE t.pending_id = p_targets[s.i])) END NULLS LAST,
                      p_ids[s.i] LOOP
        -- Assignments, not queries: plpgsql evaluates a lone function call without starting an executor.
        IF p_is_hold[i] THEN
            r := ledger_hold(p_ids[i], p_targets[i], p_amounts[i], p_expires[i], p_reasons[i], p_holders[i]);
        ELSE
            r := ledger_resolve(p_ids[i], p_targets[i], 'capture', p_amounts[i], p_reasons[i], p_models[i], p_inputs[i], p_outputs[i]);
        END IF;
        ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
        balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
        RETURN NEXT;
    END LOOP;
END $$;
