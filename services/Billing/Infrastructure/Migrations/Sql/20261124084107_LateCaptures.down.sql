-- Down of 20261124084107_LateCaptures, frozen with it: the functions as 20261124001427_LedgerBatches made them.

-- The answer for a transfer id that exists already: its first result, or a conflict when the
-- caller now describes a different transfer.
CREATE OR REPLACE FUNCTION ledger_existing(t transfers, p_kind text, p_wallet uuid, p_amount bigint, p_pending uuid)
RETURNS ledger_result LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN t.kind = p_kind
                     AND t.wallet_id IS NOT DISTINCT FROM p_wallet
                     AND COALESCE(t.requested, t.amount) = p_amount
                     AND t.pending_id IS NOT DISTINCT FROM p_pending
                THEN 'exists' ELSE 'conflict' END,
           t.id, t.kind, t.amount, a.balance, a.held, t.expires_at, NULL::text
    FROM (SELECT 1) one LEFT JOIN accounts a ON a.id = t.wallet_id
$$;

-- Credits into a wallet from a system account (grant, purchase, refund, positive correction).
-- The wallet is created by its first credit.
CREATE OR REPLACE FUNCTION ledger_credit_wallet(p_id uuid, p_kind text, p_from uuid, p_wallet uuid, p_amount bigint,
                                                p_reason text, p_organization uuid)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts;
BEGIN
    SELECT * INTO t FROM transfers WHERE id = p_id;
    IF FOUND THEN RETURN ledger_existing(t, p_kind, p_wallet, p_amount, NULL); END IF;

    INSERT INTO accounts (id, kind, organization_id, balance, held, created_at)
    VALUES (p_wallet, 'wallet', p_organization, p_amount, 0, now())
    ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + EXCLUDED.balance,
                                   organization_id = COALESCE(accounts.organization_id, EXCLUDED.organization_id)
    RETURNING * INTO a;

    INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, reason, created_at)
    VALUES (p_id, p_kind, p_from, p_wallet, p_amount, p_wallet, p_reason, now());
    RETURN ('created', p_id, p_kind, p_amount, a.balance, a.held, NULL, NULL)::ledger_result;
END $$;

-- Credits out of a wallet to a system account (negative correction): only from what is available.
CREATE OR REPLACE FUNCTION ledger_debit_wallet(p_id uuid, p_kind text, p_wallet uuid, p_to uuid, p_amount bigint, p_reason text)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts;
BEGIN
    SELECT * INTO t FROM transfers WHERE id = p_id;
    IF FOUND THEN RETURN ledger_existing(t, p_kind, p_wallet, p_amount, NULL); END IF;

    UPDATE accounts SET balance = balance - p_amount
    WHERE id = p_wallet AND kind = 'wallet' AND balance - held >= p_amount
    RETURNING * INTO a;
    IF NOT FOUND THEN
        SELECT * INTO t FROM transfers WHERE id = p_id;
        IF FOUND THEN RETURN ledger_existing(t, p_kind, p_wallet, p_amount, NULL); END IF;
        SELECT * INTO a FROM accounts WHERE id = p_wallet;
        RETURN ('insufficient', p_id, p_kind, p_amount, COALESCE(a.balance, 0), COALESCE(a.held, 0), NULL, NULL)::ledger_result;
    END IF;

    INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, reason, created_at)
    VALUES (p_id, p_kind, p_wallet, p_to, p_amount, p_wallet, p_reason, now());
    RETURN ('created', p_id, p_kind, p_amount, a.balance, a.held, NULL, NULL)::ledger_result;
END $$;

-- A pending transfer from the wallet to revenue: raises Held if, and only if, enough is available.
-- The common case is one statement (a new id, enough available): the wallet's update and both
-- entries, which are written only when the update matched.
CREATE OR REPLACE FUNCTION ledger_hold(p_id uuid, p_wallet uuid, p_amount bigint, p_expires_at timestamptz, p_reason text)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts;
BEGIN
    WITH wallet AS (
        UPDATE accounts SET held = held + p_amount
        WHERE id = p_wallet AND kind = 'wallet' AND balance - held >= p_amount
          AND NOT EXISTS (SELECT 1 FROM transfers WHERE id = p_id)
        RETURNING *),
    entry AS (
        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, expires_at, reason, created_at)
        SELECT p_id, 'hold', p_wallet, '00000000-0000-0000-0000-000000000003', p_amount, p_wallet, p_expires_at, p_reason, now()
        FROM wallet),
    open_hold AS (
        INSERT INTO open_holds (hold_id, wallet_id, amount, expires_at)
        SELECT p_id, p_wallet, p_amount, p_expires_at FROM wallet)
    SELECT * INTO a FROM wallet;
    IF FOUND THEN
        RETURN ('created', p_id, 'hold', p_amount, a.balance, a.held, p_expires_at, NULL)::ledger_result;
    END IF;

    SELECT * INTO t FROM transfers WHERE id = p_id;
    IF FOUND THEN RETURN ledger_existing(t, 'hold', p_wallet, p_amount, NULL); END IF;
    SELECT * INTO a FROM accounts WHERE id = p_wallet;
    RETURN ('insufficient', p_id, 'hold', p_amount, COALESCE(a.balance, 0), COALESCE(a.held, 0), NULL, NULL)::ledger_result;
END $$;

-- Resolves a hold exactly once: capture (charge p_amount, release the rest), release, or expiry.
-- A capture above the hold charges the excess from what is available, never beyond it; the
-- shortfall stays uncollected (Requested − Amount). A capture after the hold's expiry is refused
-- and the hold is released as expired on the spot. The common case is two statements: take the
-- open hold (if this transfer id is new), then the wallet's update with its entry.
CREATE OR REPLACE FUNCTION ledger_resolve(p_id uuid, p_hold uuid, p_kind text, p_amount bigint, p_reason text,
                                          p_model text, p_input bigint, p_output bigint)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts; h open_holds; v_free bigint; v_charge bigint;
BEGIN
    DELETE FROM open_holds WHERE hold_id = p_hold AND NOT EXISTS (SELECT 1 FROM transfers WHERE id = p_id)
    RETURNING * INTO h;
    IF NOT FOUND THEN
        SELECT * INTO t FROM transfers WHERE id = p_id;
        IF FOUND THEN RETURN ledger_existing(t, p_kind, t.wallet_id, COALESCE(p_amount, t.amount), p_hold); END IF;
        SELECT * INTO t FROM transfers WHERE pending_id = p_hold;
        IF NOT FOUND THEN
            RETURN ('no_hold', p_id, p_kind, p_amount, NULL, NULL, NULL, NULL)::ledger_result;
        END IF;
        SELECT * INTO a FROM accounts WHERE id = t.wallet_id;
        RETURN ('resolved', t.id, p_kind, t.amount, a.balance, a.held, NULL, t.kind)::ledger_result;
    END IF;

    IF p_kind = 'expiry' AND h.expires_at > now() THEN
        RAISE EXCEPTION 'hold % has not expired', p_hold USING ERRCODE = 'check_violation';
    END IF;

    IF p_kind = 'capture' AND h.expires_at <= now() THEN
        UPDATE accounts SET held = held - h.amount WHERE id = h.wallet_id RETURNING * INTO a;
        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, pending_id, reason, created_at)
        VALUES (gen_random_uuid(), 'expiry', h.wallet_id, '00000000-0000-0000-0000-000000000003', h.amount, h.wallet_id,
                p_hold, 'Hold expired before it was captured', now());
        RETURN ('expired', p_id, p_kind, 0, a.balance, a.held, h.expires_at, 'expiry')::ledger_result;
    END IF;

    IF p_kind <> 'capture' THEN
        v_charge := h.amount;
    ELSIF p_amount <= h.amount THEN
        v_charge := p_amount;
    ELSE
        SELECT balance - held INTO v_free FROM accounts WHERE id = h.wallet_id FOR UPDATE;
        v_charge := LEAST(p_amount, h.amount + v_free);
    END IF;

    WITH entry AS (
        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, requested, wallet_id, pending_id,
                               reason, model, input_tokens, output_tokens, created_at)
        VALUES (p_id, p_kind, h.wallet_id, '00000000-0000-0000-0000-000000000003', v_charge,
                CASE WHEN p_kind = 'capture' THEN p_amount END, h.wallet_id, p_hold,
                p_reason, p_model, p_input, p_output, now()))
    UPDATE accounts SET held = held - h.amount, balance = balance - CASE WHEN p_kind = 'capture' THEN v_charge ELSE 0 END
    WHERE id = h.wallet_id RETURNING * INTO a;
    RETURN ('created', p_id, p_kind, v_charge, a.balance, a.held, h.expires_at, NULL)::ledger_result;
END $$;

-- Many holds and captures in one transaction (one commit for all). Each operation locks one wallet;
-- they run in wallet order (a capture's wallet is its open hold's), as in every concurrent batch, so
-- batches cannot deadlock each other. Any error rolls the whole batch back; Ledger then runs its
-- operations one by one.
CREATE OR REPLACE FUNCTION ledger_batch(p_is_hold boolean[], p_ids uuid[], p_targets uuid[], p_amounts bigint[], p_expires timestamptz[],
                                        p_reasons text[], p_models text[], p_inputs bigint[], p_outputs bigint[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql AS $$
DECLARE i int; r ledger_result;
BEGIN
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i)
             ORDER BY CASE WHEN p_is_hold[s.i] THEN p_targets[s.i]
                           ELSE (SELECT o.wallet_id FROM open_holds o WHERE o.hold_id = p_targets[s.i]) END NULLS LAST,
                      p_ids[s.i] LOOP
        -- Assignments, not queries: plpgsql evaluates a lone function call without starting an executor.
        IF p_is_hold[i] THEN
            r := ledger_hold(p_ids[i], p_targets[i], p_amounts[i], p_expires[i], p_reasons[i]);
        ELSE
            r := ledger_resolve(p_ids[i], p_targets[i], 'capture', p_amounts[i], p_reasons[i], p_models[i], p_inputs[i], p_outputs[i]);
        END IF;
        ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
        balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
        RETURN NEXT;
    END LOOP;
END $$;

DROP FUNCTION IF EXISTS ledger_capture_late(uuid, uuid, bigint, text, text, bigint, bigint);
