-- Migration 20261123190523_Ledger, frozen with it: the ledger's result type, the append-only triggers and its first functions.

CREATE TYPE ledger_result AS (
    outcome text,           -- created | exists | conflict | insufficient | no_hold | resolved | expired
    transfer_id uuid,
    kind text,
    amount bigint,
    balance bigint,
    held bigint,
    expires_at timestamptz,
    resolved_by text        -- for 'resolved': the kind of the transfer that resolved the hold first
);

CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transfers are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_append_only();

-- The answer for a transfer id that exists already: its first result, or a conflict when the
-- caller now describes a different transfer.
CREATE FUNCTION ledger_existing(t transfers, p_kind text, p_wallet uuid, p_amount bigint, p_pending uuid)
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
CREATE FUNCTION ledger_credit_wallet(p_id uuid, p_kind text, p_from uuid, p_wallet uuid, p_amount bigint,
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
CREATE FUNCTION ledger_debit_wallet(p_id uuid, p_kind text, p_wallet uuid, p_to uuid, p_amount bigint, p_reason text)
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
CREATE FUNCTION ledger_hold(p_id uuid, p_wallet uuid, p_amount bigint, p_expires_at timestamptz, p_reason text)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts;
BEGIN
    SELECT * INTO t FROM transfers WHERE id = p_id;
    IF FOUND THEN RETURN ledger_existing(t, 'hold', p_wallet, p_amount, NULL); END IF;

    UPDATE accounts SET held = held + p_amount
    WHERE id = p_wallet AND kind = 'wallet' AND balance - held >= p_amount
    RETURNING * INTO a;
    IF NOT FOUND THEN
        SELECT * INTO t FROM transfers WHERE id = p_id;
        IF FOUND THEN RETURN ledger_existing(t, 'hold', p_wallet, p_amount, NULL); END IF;
        SELECT * INTO a FROM accounts WHERE id = p_wallet;
        RETURN ('insufficient', p_id, 'hold', p_amount, COALESCE(a.balance, 0), COALESCE(a.held, 0), NULL, NULL)::ledger_result;
    END IF;

    INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, expires_at, reason, created_at)
    VALUES (p_id, 'hold', p_wallet, '00000000-0000-0000-0000-000000000003', p_amount, p_wallet, p_expires_at, p_reason, now());
    INSERT INTO open_holds (hold_id, wallet_id, amount, expires_at) VALUES (p_id, p_wallet, p_amount, p_expires_at);
    RETURN ('created', p_id, 'hold', p_amount, a.balance, a.held, p_expires_at, NULL)::ledger_result;
END $$;

-- Resolves a hold exactly once: capture (charge p_amount, release the rest), release, or expiry.
-- A capture above the hold charges the excess from what is available, never beyond it; the
-- shortfall stays uncollected (Requested − Amount). A capture after the hold's expiry is refused
-- and the hold is released as expired on the spot.
CREATE FUNCTION ledger_resolve(p_id uuid, p_hold uuid, p_kind text, p_amount bigint, p_reason text,
                               p_model text, p_input bigint, p_output bigint)
RETURNS ledger_result LANGUAGE plpgsql AS $$
DECLARE t transfers; a accounts; h open_holds; v_free bigint; v_charge bigint;
BEGIN
    SELECT * INTO t FROM transfers WHERE id = p_id;
    IF FOUND THEN RETURN ledger_existing(t, p_kind, t.wallet_id, COALESCE(p_amount, t.amount), p_hold); END IF;

    DELETE FROM open_holds WHERE hold_id = p_hold RETURNING * INTO h;
    IF NOT FOUND THEN
        SELECT * INTO t FROM transfers WHERE pending_id = p_hold;
        IF NOT FOUND THEN
            RETURN ('no_hold', p_id, p_kind, p_amount, NULL, NULL, NULL, NULL)::ledger_result;
        END IF;
        IF t.id = p_id THEN
            RETURN ledger_existing(t, p_kind, t.wallet_id, COALESCE(p_amount, t.amount), p_hold);
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

    IF p_kind = 'capture' AND p_amount <= h.amount THEN
        v_charge := p_amount;
        UPDATE accounts SET held = held - h.amount, balance = balance - v_charge WHERE id = h.wallet_id RETURNING * INTO a;
    ELSIF p_kind = 'capture' THEN
        SELECT balance - held INTO v_free FROM accounts WHERE id = h.wallet_id FOR UPDATE;
        v_charge := LEAST(p_amount, h.amount + v_free);
        UPDATE accounts SET held = held - h.amount, balance = balance - v_charge WHERE id = h.wallet_id RETURNING * INTO a;
    ELSE
        v_charge := h.amount;
        UPDATE accounts SET held = held - h.amount WHERE id = h.wallet_id RETURNING * INTO a;
    END IF;

    INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, requested, wallet_id, pending_id,
                           reason, model, input_tokens, output_tokens, created_at)
    VALUES (p_id, p_kind, h.wallet_id, '00000000-0000-0000-0000-000000000003', v_charge,
            CASE WHEN p_kind = 'capture' THEN p_amount END, h.wallet_id, p_hold,
            p_reason, p_model, p_input, p_output, now());
    RETURN ('created', p_id, p_kind, v_charge, a.balance, a.held, h.expires_at, NULL)::ledger_result;
END $$;

-- Many holds in one transaction (one commit for all). Rows are locked in one global order (wallet,
-- then hold/transfer id) here and in ledger_capture_batch, and single operations lock one wallet,
-- so batches cannot deadlock.
-- Any error rolls the whole batch back; Ledger then runs its items one by one.
CREATE FUNCTION ledger_hold_batch(p_ids uuid[], p_wallets uuid[], p_amounts bigint[], p_expires timestamptz[], p_reasons text[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql AS $$
DECLARE i int;
BEGIN
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i) ORDER BY p_wallets[s.i], p_ids[s.i] LOOP
        RETURN QUERY SELECT i, r.* FROM ledger_hold(p_ids[i], p_wallets[i], p_amounts[i], p_expires[i], p_reasons[i]) r;
    END LOOP;
END $$;

CREATE FUNCTION ledger_capture_batch(p_ids uuid[], p_holds uuid[], p_amounts bigint[], p_reasons text[],
                                     p_models text[], p_inputs bigint[], p_outputs bigint[])
RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
               expires_at timestamptz, resolved_by text)
LANGUAGE plpgsql AS $$
DECLARE i int;
BEGIN
    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i)
             LEFT JOIN open_holds o ON o.hold_id = p_holds[s.i]
             ORDER BY o.wallet_id NULLS LAST, p_holds[s.i], p_ids[s.i] LOOP
        RETURN QUERY SELECT i, r.* FROM ledger_resolve(p_ids[i], p_holds[i], 'capture', p_amounts[i], p_reasons[i],
                                                     p_models[i], p_inputs[i], p_outputs[i]) r;
    END LOOP;
END $$;
