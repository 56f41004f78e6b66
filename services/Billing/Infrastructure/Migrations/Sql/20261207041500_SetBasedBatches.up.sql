-- Migration 20261207041500_SetBasedBatches, frozen with it: ledger_batch applies a batch's common operations set-based,
-- a few statements for all of them instead of two function calls per operation (issue 22). The other functions stay as
-- 20261206010451_HolderLeases made them, and they keep the rules for everything unusual.
--
-- Every operation keeps its own outcome, and a batch applies its operations in this order, one in which one-by-one
-- calls give the same answers:
--   1. captures of an open, unexpired hold for at most its amount, each hold's first, with a new id: they only free
--      credits, so together, in one statement;
--   2. every other capture (above its hold, late, repeated, unknown), one by one in the order given (ledger_resolve);
--   3. holds on a wallet whose holds in the batch all have new ids and all fit in what it has available, together;
--   4. the holds on every other wallet, one by one in the order given (ledger_hold), so a refused one never fails its
--      neighbours.
-- The batch's wallets are locked first, in id order, as every concurrent batch does, so batches cannot deadlock each
-- other; and with its wallets locked, a cancellation of one of its holds has either committed (so step 3 sees it and
-- leaves that hold to ledger_hold) or waits for this batch (and then finds the hold to release). Each result carries the
-- wallet's balance and held as they were right after that operation. Any error rolls the whole batch back; CreditLedger
-- then runs its operations one by one.
--
-- The statements join the batch (unnest: a few dozen rows at most) to the ledger's tables by primary key. Left to its
-- statistics the planner hashes whole tables instead while they are small (seen with auto_explain: open_holds and
-- cancelled_reservations read in full for every batch), which grows with them; so this function plans with index
-- probes and nested loops only, and once per connection: with the arrays' contents in view Postgres kept planning
-- every statement again for every batch (custom plans): a fifth to a half more backend CPU in batches of 2–8.
CREATE OR REPLACE FUNCTION ledger_batch(p_is_hold boolean[], p_ids uuid[], p_targets uuid[], p_amounts bigint[], p_expires timestamptz[],
                                        p_reasons text[], p_models text[], p_inputs bigint[], p_outputs bigint[], p_holders uuid[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    v_repeated uuid[];
    v_ords int[];
    v_results ledger_result[];
    v_done int[] := '{}';
    r ledger_result;
    i int;
BEGIN
    v_repeated := ARRAY(SELECT id FROM unnest(p_ids) AS id GROUP BY id HAVING count(*) > 1);

    PERFORM 1 FROM accounts a
    WHERE a.id IN (SELECT o.target FROM unnest(p_is_hold, p_targets) AS o(is_hold, target) WHERE o.is_hold
                   UNION
                   SELECT h.wallet_id FROM unnest(p_is_hold, p_targets) AS o(is_hold, target)
                   JOIN open_holds h ON h.hold_id = o.target
                   WHERE NOT o.is_hold)
    ORDER BY a.id FOR UPDATE;

    -- A batch of one kind (the service's reservations are all holds) skips the other kind's statements.
    IF false = ANY (p_is_hold) THEN
        -- 1. Captures within their hold.
        WITH caps AS MATERIALIZED (
            SELECT DISTINCT ON (o.hold) o.*
            FROM unnest(p_is_hold, p_ids, p_targets, p_amounts, p_reasons, p_models, p_inputs, p_outputs)
                 WITH ORDINALITY AS o(is_hold, id, hold, charge, reason, model, input, output, ord)
            WHERE NOT o.is_hold AND o.id <> ALL (v_repeated)
              AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = o.id)
            ORDER BY o.hold, o.ord),
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
            FROM (SELECT wallet_id, sum(hold_amount)::bigint AS released, sum(charge)::bigint AS charged FROM taken GROUP BY wallet_id) w
            WHERE a.id = w.wallet_id
            RETURNING a.id, a.balance + w.charged AS balance_before, a.held + w.released AS held_before)
        SELECT array_agg(x.ord), array_agg(x.result)
        INTO v_ords, v_results
        FROM (SELECT t.ord::int AS ord,
                     ('created', t.id, 'capture', t.charge,
                      w.balance_before - sum(t.charge) OVER running,
                      w.held_before - sum(t.hold_amount) OVER running,
                      t.expires_at, NULL)::ledger_result AS result
              FROM taken t JOIN wallets w ON w.id = t.wallet_id
              WINDOW running AS (PARTITION BY t.wallet_id ORDER BY t.ord)) x;
        RETURN QUERY SELECT * FROM unnest(v_ords, v_results);
        v_done := v_done || coalesce(v_ords, '{}');

        -- 2. The other captures, one by one.
        FOR i IN SELECT o.ord FROM unnest(p_is_hold) WITH ORDINALITY AS o(is_hold, ord)
                 WHERE NOT o.is_hold AND o.ord <> ALL (v_done) ORDER BY o.ord LOOP
            r := ledger_resolve(p_ids[i], p_targets[i], 'capture', p_amounts[i], p_reasons[i], p_models[i], p_inputs[i], p_outputs[i]);
            ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
            balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
            RETURN NEXT;
        END LOOP;
    END IF;

    IF true = ANY (p_is_hold) THEN
        -- 3. Holds on wallets that can take all of theirs, each new.
        WITH holds AS MATERIALIZED (
            SELECT o.*,
                   o.id <> ALL (v_repeated)
                   AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = o.id)
                   AND NOT EXISTS (SELECT 1 FROM cancelled_reservations c WHERE c.reservation_id = o.id) AS plain
            FROM unnest(p_is_hold, p_ids, p_targets, p_amounts, p_expires, p_reasons, p_holders)
                 WITH ORDINALITY AS o(is_hold, id, wallet_id, amount, expires_at, reason, holder, ord)
            WHERE o.is_hold),
        wallets AS (
            UPDATE accounts a SET held = a.held + g.total
            FROM (SELECT wallet_id, sum(amount)::bigint AS total FROM holds GROUP BY wallet_id HAVING bool_and(plain)) g
            WHERE a.id = g.wallet_id AND a.kind = 'wallet' AND a.balance - a.held >= g.total
            RETURNING a.id, a.balance, a.held - g.total AS held_before),
        made AS MATERIALIZED (
            SELECT h.*, w.balance, w.held_before + sum(h.amount) OVER (PARTITION BY h.wallet_id ORDER BY h.ord) AS held_after
            FROM holds h JOIN wallets w ON w.id = h.wallet_id),
        entries AS (
            INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, expires_at, reason, created_at)
            SELECT id, 'hold', wallet_id, '00000000-0000-0000-0000-000000000003', amount, wallet_id, expires_at, reason, now()
            FROM made),
        opened AS (
            INSERT INTO open_holds (hold_id, wallet_id, amount, expires_at, holder)
            SELECT id, wallet_id, amount, expires_at, holder FROM made)
        SELECT array_agg(m.ord::int), array_agg(('created', m.id, 'hold', m.amount, m.balance, m.held_after, m.expires_at, NULL)::ledger_result)
        INTO v_ords, v_results
        FROM made m;
        RETURN QUERY SELECT * FROM unnest(v_ords, v_results);
        v_done := v_done || coalesce(v_ords, '{}');

        -- 4. The other holds, one by one in the order given.
        FOR i IN SELECT o.ord FROM unnest(p_is_hold) WITH ORDINALITY AS o(is_hold, ord)
                 WHERE o.is_hold AND o.ord <> ALL (v_done) ORDER BY o.ord LOOP
            r := ledger_hold(p_ids[i], p_targets[i], p_amounts[i], p_expires[i], p_reasons[i], p_holders[i]);
            ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
            balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
            RETURN NEXT;
        END LOOP;
    END IF;
END $$;
