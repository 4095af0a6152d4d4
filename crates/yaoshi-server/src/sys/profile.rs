//! `sys/profile`: the compliance profile the deployment runs under. Any
//! authenticated principal reads it (the rules are not secret); a principal
//! that manages principals (root, sec-admin) changes it, under dual control
//! when the profile in force lists `change-profile`.

use crate::app::{AppState, authenticate};
use crate::wire::{ApiError, ApiResult, Call, Op, Reply};
use serde_json::json;
use yaoshi_core::auth::Action;
use yaoshi_core::profile::{DualOp, Profile};

/// `GET` and `PUT`/`POST sys/profile`.
pub async fn serve(state: &AppState, call: &Call) -> ApiResult<Reply> {
    let who = authenticate(state, call).await?;
    match call.op {
        Op::Read => {
            let profile = state.kms.profile();
            Ok(Reply::data(json!({
                "name": profile.name,
                "title": profile.title,
                "profile": serde_json::to_value(&*profile).unwrap_or_default(),
                "toml": profile.to_toml(),
            })))
        }
        Op::Write => {
            who.principal
                .authorize(&Action::Principals { write: true })?;
            let params = &call.params;
            let new = match (params.str("name")?, params.str("toml")?) {
                (Some(name), None) => Profile::builtin(&name),
                (None, Some(text)) => Profile::from_toml(&text),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "give either name (one of {}) or toml (a profile file's text)",
                        Profile::builtin_names().join(", ")
                    )));
                }
            }
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
            if new == *state.kms.profile() {
                return Err(ApiError::bad_request(format!(
                    "the deployment already runs under profile {:?}",
                    new.name
                )));
            }
            state.kms.check_profile_change(&new).await?;
            if let Some(parked) =
                crate::dual_control::park_if_required(state, call, &who, DualOp::ChangeProfile)
                    .await?
            {
                return Ok(parked);
            }
            let previous = state.kms.profile().name.clone();
            state.kms.change_profile(new).await?;
            let profile = state.kms.profile();
            tracing::info!(from = %previous, to = %profile.name, "compliance profile changed");
            Ok(Reply::data(json!({
                "name": profile.name,
                "previous": previous,
            }))
            .warn_unknown(params.unknown(&["name", "toml"])))
        }
        _ => Err(ApiError::unsupported_operation()),
    }
}
