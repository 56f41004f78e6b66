-- Many holds and captures in one transaction (one commit for all), applied set-based: a handful of statements for
-- the whole batch instead of a function call per operation (issue 22). Every operation keeps its own outcome, and a
-- batch applies them in this order, which is the order one-by-one calls would give the same results in:
--   1. captures of an open, unexpired hold for at most its amount (the common case), each hold's first one: they
--      only free credits, so together, in one statement;
--   2. every other capture (above its hold, late, repeated, unknown), one by one (ledger_resolve);
--   3. holds on a wallet whose holds in the batch all fit in what it has available, each with a new id (the common
--      case), together;
--   4. the holds on every other wallet (one that cannot take all of them, or has a repeated, known or cancelled id
--      among them), one by one in the order given (ledger_hold), so a refused one never makes its neighbours fail.
-- The wallets are locked first, in id order, as every concurrent batch does, so batches cannot deadlock each other.
-- Each result carries the wallet's balance and held as they were right after that operation. Any error rolls the whole
-- batch back; CreditLedger then runs its operations one by one.
CREATE OR REPLACE FUNCTION ledger_batch(p_is_hold boolean[], p_ids uuid[], p_targets uuid[], p_amounts bigint[], p_expires timestamptz[],
                                        p_reasons text[], p_models text[], p_inputs bigint[], p_outputs bigint[], p_holders uuid[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_done int[] := '{}';
    v_ords int[];
    v_results ledger_result[];
    r ledger_result;
    i int;
BEGIN
    PERFORM 1 FROM accounts
    WHERE id IN (SELECT p_targets[s.i] FROM generate_subscripts(p_ids, 1) AS s(i) WHERE p_is_hold[s.i]
                 UNION
                 SELECT h.wallet_id FROM open_holds h
                 WHERE h.hold_id IN (SELECT p_targets[s.i] FROM generate_subscripts(p_ids, 1) AS s(i) WHERE NOT p_is_hold[s.i]))
    ORDER BY id FOR UPDATE;

    -- 1. Captures within their hold.
    WITH caps AS (
        SELECT DISTINCT ON (p_targets[s.i]) s.i AS ord, p_ids[s.i] AS id, p_targets[s.i] AS hold, p_amounts[s.i] AS charge,
               p_reasons[s.i] AS reason, p_models[s.i] AS model, p_inputs[s.i] AS input, p_outputs[s.i] AS output
        FROM generate_subscripts(p_ids, 1) AS s(i)
        WHERE NOT p_is_hold[s.i]
          AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = p_ids[s.i])
          AND (SELECT count(*) FROM unnest(p_ids) AS same(id) WHERE same.id = p_ids[s.i]) = 1
        ORDER BY p_targets[s.i], s.i),
    taken AS (
        DELETE FROM open_holds h USING caps c
        WHERE h.hold_id = c.hold AND h.expires_at > now() AND c.charge <= h.amount
        RETURNING c.ord, c.id, c.hold, h.wallet_id, h.amount AS hold_amount, c.charge, h.expires_at, c.reason, c.model, c.input, c.output),
    entries AS (
        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, requested, wallet_id, pending_id,
                               reason, model, input_tokens, output_tokens, created_at)
        SELECT id, 'capture', wallet_id, '00000000-0000-0000-0000-000000000003', charge, charge, wallet_id, hold,
               reason, model, input, output, now()
        FROM taken),
    wallets AS (
        UPDATE accounts a SET held = a.held - w.released, balance = a.balance - w.charged
        FROM (SELECT wallet_id, sum(hold_amount) AS released, sum(charge) AS charged FROM taken GROUP BY wallet_id) w
        WHERE a.id = w.wallet_id
        RETURNING a.id, a.balance + w.charged AS balance_before, a.held + w.released AS held_before)
    SELECT array_agg(x.ord ORDER BY x.ord), array_agg(x.result ORDER BY x.ord)
    INTO v_ords, v_results
    FROM (SELECT t.ord, ('created', t.id, 'capture', t.charge,
                         w.balance_before - sum(t.charge) OVER running,
                         w.held_before - sum(t.hold_amount) OVER running,
                         t.expires_at, NULL)::ledger_result AS result
          FROM taken t JOIN wallets w ON w.id = t.wallet_id
          WINDOW running AS (PARTITION BY t.wallet_id ORDER BY t.ord)) x;
    FOR i IN 1 .. coalesce(array_length(v_ords, 1), 0) LOOP
        ordinal := v_ords[i]; outcome := v_results[i].outcome; transfer_id := v_results[i].transfer_id; kind := v_results[i].kind;
        amount := v_results[i].amount; balance := v_results[i].balance; held := v_results[i].held;
        expires_at := v_results[i].expires_at; resolved_by := NULL;
        RETURN NEXT;
    END LOOP;
    v_done := v_done || coalesce(v_ords, '{}');

    -- 2. The other captures, one by one.
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i) WHERE NOT p_is_hold[s.i] AND s.i <> ALL (v_done) ORDER BY s.i LOOP
        r := ledger_resolve(p_ids[i], p_targets[i], 'capture', p_amounts[i], p_reasons[i], p_models[i], p_inputs[i], p_outputs[i]);
        ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
        balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
        RETURN NEXT;
    END LOOP;

    -- 3. Holds on wallets that can take all of theirs (each new, none repeated or cancelled).
    WITH holds AS (
        SELECT s.i AS ord, p_ids[s.i] AS id, p_targets[s.i] AS wallet_id, p_amounts[s.i] AS amount, p_expires[s.i] AS expires,
               p_reasons[s.i] AS reason, p_holders[s.i] AS holder,
               NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = p_ids[s.i])
                 AND NOT EXISTS (SELECT 1 FROM cancelled_reservations c WHERE c.reservation_id = p_ids[s.i])
                 AND (SELECT count(*) FROM unnest(p_ids) AS same(id) WHERE same.id = p_ids[s.i]) = 1 AS plain
        FROM generate_subscripts(p_ids, 1) AS s(i)
        WHERE p_is_hold[s.i]),
    fitting AS (
        SELECT h.*, a.balance, a.held,
               sum(h.amount) OVER (PARTITION BY h.wallet_id ORDER BY h.ord) AS running,
               sum(h.amount) OVER (PARTITION BY h.wallet_id) AS total,
               bool_and(h.plain) OVER (PARTITION BY h.wallet_id) AS all_plain
        FROM holds h JOIN accounts a ON a.id = h.wallet_id AND a.kind = 'wallet'),
    made AS (
        SELECT * FROM fitting WHERE all_plain AND total <= balance - held),
    wallets AS (
        UPDATE accounts a SET held = a.held + m.total
        FROM (SELECT DISTINCT wallet_id, total FROM made) m
        WHERE a.id = m.wallet_id),
    entries AS (
        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, expires_at, reason, created_at)
        SELECT id, 'hold', wallet_id, '00000000-0000-0000-0000-000000000003', amount, wallet_id, expires, reason, now()
        FROM made),
    opened AS (
        INSERT INTO open_holds (hold_id, wallet_id, amount, expires_at, holder)
        SELECT id, wallet_id, amount, expires, holder FROM made)
    SELECT array_agg(m.ord ORDER BY m.ord),
           array_agg(('created', m.id, 'hold', m.amount, m.balance, m.held + m.running, m.expires, NULL)::ledger_result ORDER BY m.ord)
    INTO v_ords, v_results
    FROM made m;
    FOR i IN 1 .. coalesce(array_length(v_ords, 1), 0) LOOP
        ordinal := v_ords[i]; outcome := v_results[i].outcome; transfer_id := v_results[i].transfer_id; kind := v_results[i].kind;
        amount := v_results[i].amount; balance := v_results[i].balance; held := v_results[i].held;
        expires_at := v_results[i].expires_at; resolved_by := NULL;
        RETURN NEXT;
    END LOOP;
    v_done := v_done || coalesce(v_ords, '{}');

    -- 4. The other holds, one by one in the order given.
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i) WHERE p_is_hold[s.i] AND s.i <> ALL (v_done) ORDER BY s.i LOOP
        r := ledger_hold(p_ids[i], p_targets[i], p_amounts[i], p_expires[i], p_reasons[i], p_holders[i]);
        ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
        balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
        RETURN NEXT;
    END LOOP;
END $$;
