// One schema for both backends; the migrations in `migrations/sqlite` and
// `migrations/postgres` create exactly these columns.

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        google_sub -> Nullable<Text>,
        role -> Text,
        disabled -> Bool,
        must_change_password -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        last_sign_in_at -> Nullable<BigInt>,
        failed_window_start -> Nullable<BigInt>,
        totp_enabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    totp_secrets (user_id) {
        user_id -> Integer,
        secret -> Text,
        last_step -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Integer,
        user_id -> Integer,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Integer,
        user_agent -> Text,
        ip -> Text,
        remember -> Bool,
        method -> Text,
        created_at -> BigInt,
        last_used_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        refresh_jti -> Nullable<Text>,
        previous_refresh_jti -> Nullable<Text>,
        refreshed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Integer,
        at -> BigInt,
        kind -> Text,
        user_id -> Nullable<Integer>,
        actor_id -> Nullable<Integer>,
        email -> Nullable<Text>,
        ip -> Text,
        user_agent -> Text,
        detail -> Text,
    }
}

diesel::table! {
    items (id) {
        id -> Integer,
        name -> Text,
        description -> Text,
        created_by -> Nullable<Integer>,
        created_at -> BigInt,
    }
}

diesel::table! {
    registrations (id) {
        id -> Integer,
        email -> Text,
        token_hash -> Nullable<Text>,
        next -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Integer,
        email -> Text,
        user_id -> Nullable<Integer>,
        token_hash -> Nullable<Text>,
        next -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    passkey_users (user_id) {
        user_id -> Integer,
        handle -> Text,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Integer,
        user_id -> Integer,
        credential_id -> Text,
        name -> Text,
        passkey -> Text,
        backed_up -> Bool,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    passkey_sessions (session_id) {
        session_id -> Text,
        passkey_id -> Integer,
    }
}

diesel::table! {
    passkey_challenges (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Nullable<Integer>,
        bind -> Nullable<Text>,
        state -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sign_in_limits (kind, ip) {
        kind -> Text,
        ip -> Text,
        tat -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    audit_events,
    items,
    registrations,
    totp_secrets,
    recovery_codes,
    password_resets,
    passkey_users,
    passkeys,
    passkey_sessions,
    passkey_challenges,
    sign_in_limits
);
