//! The PKCS#11 seal against a real SoftHSM2.
//!
//! PKCS#11 state (`C_Initialize`, logins) and SoftHSM2's configuration
//! (`SOFTHSM2_CONF`, read at `C_Initialize`) belong to the whole process, and
//! changing the environment of a running multi-threaded test binary is
//! unsound. So every test re-runs this test binary, filtered to itself, as a
//! child process whose environment points SoftHSM2 at a fresh token directory.
//! The child does the work; the parent only sets up and checks the outcome.
//!
//! SoftHSM2 missing is a failure with instructions, never a silent skip.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::Ulong;
use secrecy::SecretString;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use yaoshi_core::seal::RootKeyWrapper;
use yaoshi_hsm::blob::{IV_LEN, TAG_LEN};
use yaoshi_hsm::{Pkcs11Config, Pkcs11Error, Pkcs11Wrapper, testing};

/// Set in the child: the per-test directory holding `softhsm2.conf` and `tokens/`.
const CHILD_DIR_VAR: &str = "YAOSHI_SOFTHSM_TEST_DIR";
const USER_PIN: &str = "1234";
const SO_PIN: &str = "5678";
const KEY_LABEL: &str = "yaoshi-root-wrap";

/// A SoftHSM2 token directory, as seen from inside a child process.
struct SoftHsm {
    hsm: testing::SoftHsm,
    dir: PathBuf,
    module: PathBuf,
}

impl SoftHsm {
    fn conf(&self) -> PathBuf {
        self.hsm.conf()
    }

    /// Initialises a token (and its user PIN) with `softhsm2-util`.
    fn init_token(&self, label: &str) {
        self.hsm
            .init_token(label, USER_PIN, SO_PIN)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn config(&self, token: &str, pin: &str) -> Pkcs11Config {
        Pkcs11Config::new(
            &self.module,
            token,
            SecretString::from(pin.to_owned()),
            KEY_LABEL,
        )
    }

    /// Opens the token with cryptoki directly (no yaoshi code), logged in as
    /// the user. Call only while no wrapper holds the module; finish with
    /// [`finish_raw`].
    fn raw_session(&self, token: &str) -> (Pkcs11, Session) {
        let pkcs11 = Pkcs11::new(&self.module).expect("load SoftHSM2");
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        let slot = pkcs11
            .get_slots_with_initialized_token()
            .expect("slots")
            .into_iter()
            .find(|&slot| pkcs11.get_token_info(slot).expect("token info").label() == token)
            .expect("token present");
        let session = pkcs11.open_rw_session(slot).expect("session");
        session
            .login(UserType::User, Some(&SecretString::from(USER_PIN)))
            .expect("login");
        (pkcs11, session)
    }
}

fn finish_raw(pkcs11: Pkcs11, session: Session) {
    session.close().expect("C_CloseSession");
    pkcs11.finalize().expect("C_Finalize");
}

/// Runs `body` in a child process with its own SoftHSM2 token directory.
fn in_softhsm(test: &str, body: impl FnOnce(&SoftHsm)) {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VAR) {
        let module = std::env::var_os(testing::MODULE_VAR).expect("parent sets the module path");
        let hsm = testing::SoftHsm::existing(dir, module);
        body(&SoftHsm {
            dir: hsm.dir().to_owned(),
            module: hsm.module().to_owned(),
            hsm,
        });
        return;
    }

    let hsm = testing::SoftHsm::create().unwrap_or_else(|e| panic!("{e}"));
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_VAR, hsm.dir())
        .env(testing::MODULE_VAR, hsm.module())
        .envs(hsm.env())
        .env("YAOSHI_PKCS11_PIN", USER_PIN)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run the test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test} failed in its SoftHSM2 child process ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// Declares a test that runs in its own SoftHSM2 process.
macro_rules! softhsm_test {
    ($(#[doc = $doc:literal])* fn $name:ident($hsm:ident) $body:block) => {
        $(#[doc = $doc])*
        #[test]
        fn $name() {
            in_softhsm(stringify!($name), |$hsm: &SoftHsm| $body);
        }
    };
}

fn random_root_key() -> Vec<u8> {
    yaoshi_crypto::random::bytes(32).expect("random").to_vec()
}

softhsm_test! {
    /// A fresh key wraps and unwraps a random root key; blobs have the documented shape.
    fn wraps_and_unwraps_a_root_key(hsm) {
        hsm.init_token("alpha");
        let wrapper = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("connect and create key");
        assert!(wrapper.created_key());
        assert_eq!(wrapper.kind(), "pkcs11");

        let root_key = random_root_key();
        let blob = wrapper.wrap(&root_key).expect("wrap");
        assert_eq!(blob.len(), 1 + IV_LEN + root_key.len() + TAG_LEN);
        assert_eq!(blob[0], 1, "format version");
        assert!(
            !blob.windows(root_key.len()).any(|w| w == root_key.as_slice()),
            "the root key must not appear in the blob"
        );
        let unwrapped = wrapper.unwrap(&blob).expect("unwrap");
        assert_eq!(unwrapped.expose(), root_key.as_slice());

        // A fresh IV every time.
        let again = wrapper.wrap(&root_key).expect("wrap again");
        assert_ne!(again, blob);
        assert_eq!(wrapper.unwrap(&again).expect("unwrap again").expose(), root_key.as_slice());

        // Nothing to wrap is refused.
        assert_eq!(wrapper.wrap_root_key(&[]).unwrap_err(), Pkcs11Error::EmptyRootKey);

        // The existing key is found, not duplicated.
        let second = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("connect to the existing key");
        assert!(!second.created_key());
        assert_eq!(second.unwrap(&blob).expect("unwrap via second").expose(), root_key.as_slice());
        wrapper.close().expect("close");
        second.close().expect("close second");
    }
}

softhsm_test! {
    /// The key generated in the token is sensitive, non-extractable, private
    /// and limited to encrypt/decrypt, read back with cryptoki directly.
    fn generated_key_never_leaves_the_token(hsm) {
        hsm.init_token("alpha");
        Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("create key")
            .close()
            .expect("close");

        let (pkcs11, session) = hsm.raw_session("alpha");
        let keys = session
            .find_objects(&[Attribute::Label(KEY_LABEL.as_bytes().to_vec())])
            .expect("find");
        assert_eq!(keys.len(), 1, "exactly one key object");
        let attributes = session
            .get_attributes(
                keys[0],
                &[
                    AttributeType::Class,
                    AttributeType::KeyType,
                    AttributeType::ValueLen,
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::AlwaysSensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                    AttributeType::Modifiable,
                    AttributeType::Encrypt,
                    AttributeType::Decrypt,
                    AttributeType::Wrap,
                    AttributeType::Unwrap,
                    AttributeType::Sign,
                    AttributeType::Derive,
                ],
            )
            .expect("read attributes");
        for expected in [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(Ulong::from(32)),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::AlwaysSensitive(true),
            Attribute::Extractable(false),
            Attribute::NeverExtractable(true),
            Attribute::Modifiable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(false),
            Attribute::Unwrap(false),
            Attribute::Sign(false),
            Attribute::Derive(false),
        ] {
            assert!(attributes.contains(&expected), "{expected:?} not in {attributes:?}");
        }

        // The value cannot be read (cryptoki leaves out attributes the token refuses).
        let value = session
            .get_attributes(keys[0], &[AttributeType::Value])
            .expect("ask for the value");
        assert!(
            !value.iter().any(|a| matches!(a, Attribute::Value(_))),
            "CKA_VALUE of the wrapping key was readable"
        );
        // Nor can it be wrapped out with another key.
        let exporter = session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::ValueLen(Ulong::from(32)),
                    Attribute::Token(false),
                    Attribute::Wrap(true),
                ],
            )
            .expect("session key");
        assert!(session.wrap_key(&Mechanism::AesKeyWrapPad, exporter, keys[0]).is_err());
        finish_raw(pkcs11, session);

        // Without login the private key object is invisible.
        let pkcs11 = Pkcs11::new(&hsm.module).expect("load");
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("init");
        let slot = pkcs11.get_slots_with_initialized_token().expect("slots")[0];
        let anonymous = pkcs11.open_ro_session(slot).expect("session");
        let visible = anonymous
            .find_objects(&[Attribute::Label(KEY_LABEL.as_bytes().to_vec())])
            .expect("find");
        assert!(visible.is_empty(), "the key must be CKA_PRIVATE");
        finish_raw(pkcs11, anonymous);
    }
}

softhsm_test! {
    /// A blob written before a restart (close, C_Finalize, a new connection
    /// to the same token directory) unwraps afterwards.
    fn unwraps_after_restart(hsm) {
        hsm.init_token("alpha");
        let root_key = random_root_key();
        let wrapper = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("create key");
        let blob = wrapper.wrap(&root_key).expect("wrap");
        // The last user of the module: this finalises it.
        wrapper.close().expect("close and C_Finalize");

        // Proof that the module really was finalised: a fresh C_Initialize succeeds.
        let (pkcs11, session) = hsm.raw_session("alpha");
        finish_raw(pkcs11, session);

        let restarted = Pkcs11Wrapper::connect(hsm.config("alpha", USER_PIN)).expect("reconnect");
        assert!(!restarted.created_key());
        assert_eq!(restarted.unwrap(&blob).expect("unwrap after restart").expose(), root_key.as_slice());

        // Dropping (instead of closing) also finalises, and connecting again works.
        drop(restarted);
        let again = Pkcs11Wrapper::connect(hsm.config("alpha", USER_PIN)).expect("reconnect after drop");
        assert_eq!(again.unwrap(&blob).expect("unwrap").expose(), root_key.as_slice());
    }
}

softhsm_test! {
    /// A wrong PIN is a typed error that names the token, not the PIN.
    fn wrong_pin_fails_cleanly(hsm) {
        hsm.init_token("alpha");
        let err = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", "98765"))
            .expect_err("wrong PIN must fail");
        assert_eq!(err, Pkcs11Error::WrongPin { label: "alpha".into() });
        let shown = err.to_string();
        assert!(shown.contains("incorrect user PIN") && !shown.contains("98765"), "{shown}");

        // The failure left nothing behind: the right PIN works next.
        let wrapper = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("right PIN");
        assert!(wrapper.created_key(), "the failed attempt must not have created a key");
    }
}

softhsm_test! {
    /// An unknown token label is a typed error listing the labels present.
    fn missing_token_label_fails_cleanly(hsm) {
        hsm.init_token("alpha");
        let err = Pkcs11Wrapper::connect_or_create_key(hsm.config("no-such-token", USER_PIN))
            .expect_err("missing token must fail");
        assert_eq!(
            err,
            Pkcs11Error::TokenNotFound {
                label: "no-such-token".into(),
                present: vec!["alpha".into()],
            }
        );
        assert!(err.to_string().contains("no-such-token"), "{err}");
    }
}

softhsm_test! {
    /// Without `connect_or_create_key`, a missing key is an error, not a new key.
    fn missing_key_is_not_created_by_connect(hsm) {
        hsm.init_token("alpha");
        let err = Pkcs11Wrapper::connect(hsm.config("alpha", USER_PIN)).expect_err("no key yet");
        assert_eq!(err, Pkcs11Error::KeyNotFound { label: KEY_LABEL.into() });
    }
}

softhsm_test! {
    /// Any change to a blob is detected; the trait reports it as a pkcs11 error.
    fn tampered_blob_fails(hsm) {
        hsm.init_token("alpha");
        let wrapper = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("create key");
        let blob = wrapper.wrap(&random_root_key()).expect("wrap");

        let mut version = blob.clone();
        version[0] ^= 0x80;
        assert_eq!(
            wrapper.unwrap_root_key(&version).unwrap_err(),
            Pkcs11Error::MalformedBlob("unknown format version")
        );
        // Every bit position class: IV, ciphertext, tag.
        for index in [1, IV_LEN, 1 + IV_LEN, 1 + IV_LEN + 31, blob.len() - TAG_LEN, blob.len() - 1] {
            let mut tampered = blob.clone();
            tampered[index] ^= 0x01;
            assert_eq!(
                wrapper.unwrap_root_key(&tampered).unwrap_err(),
                Pkcs11Error::Unauthentic,
                "flipped byte {index}"
            );
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(wrapper.unwrap_root_key(&longer).unwrap_err(), Pkcs11Error::Unauthentic);
        assert_eq!(
            wrapper.unwrap_root_key(&blob[..blob.len() - 1]).unwrap_err(),
            Pkcs11Error::Unauthentic
        );
        assert_eq!(
            wrapper.unwrap_root_key(&blob[..1 + IV_LEN + TAG_LEN]).unwrap_err(),
            Pkcs11Error::MalformedBlob("too short")
        );

        let mut tampered = blob.clone();
        tampered[5] ^= 0x01;
        let err = wrapper.unwrap(&tampered).unwrap_err();
        assert_eq!(err.device, "pkcs11");
        assert!(err.message.contains("failed authentication"), "{err}");

        // The session is still usable after failed decryptions.
        assert!(wrapper.unwrap(&blob).is_ok());
    }
}

softhsm_test! {
    /// A blob wrapped under token A's key does not unwrap under token B's key
    /// of the same label (two wrappers share one module in one process).
    fn blob_from_another_token_does_not_unwrap(hsm) {
        hsm.init_token("alpha");
        hsm.init_token("beta");
        let alpha = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("alpha key");
        let beta = Pkcs11Wrapper::connect_or_create_key(hsm.config("beta", USER_PIN))
            .expect("beta key");
        let root_key = random_root_key();
        let from_alpha = alpha.wrap(&root_key).expect("wrap under alpha");
        assert_eq!(beta.unwrap_root_key(&from_alpha).unwrap_err(), Pkcs11Error::Unauthentic);
        let from_beta = beta.wrap(&root_key).expect("wrap under beta");
        assert_eq!(alpha.unwrap_root_key(&from_beta).unwrap_err(), Pkcs11Error::Unauthentic);

        // Closing one leaves the other working (the module stays initialised).
        beta.close().expect("close beta");
        assert_eq!(alpha.unwrap(&from_alpha).expect("alpha still works").expose(), root_key.as_slice());
        alpha.close().expect("close alpha");
    }
}

softhsm_test! {
    /// Existing keys that could leave the token, or are the wrong size, are refused.
    fn refuses_unsafe_existing_keys(hsm) {
        hsm.init_token("extractable");
        hsm.init_token("readable");
        hsm.init_token("aes128");
        let make_key = |token: &str, extra: &[Attribute]| {
            let (pkcs11, session) = hsm.raw_session(token);
            let mut template = vec![
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Label(KEY_LABEL.as_bytes().to_vec()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ];
            template.extend_from_slice(extra);
            session.generate_key(&Mechanism::AesKeyGen, &template).expect("generate");
            finish_raw(pkcs11, session);
        };
        make_key("extractable", &[
            Attribute::ValueLen(Ulong::from(32)),
            Attribute::Sensitive(true),
            Attribute::Extractable(true),
        ]);
        make_key("readable", &[
            Attribute::ValueLen(Ulong::from(32)),
            Attribute::Sensitive(false),
            Attribute::Extractable(false),
        ]);
        make_key("aes128", &[
            Attribute::ValueLen(Ulong::from(16)),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
        ]);

        for (token, attribute) in [
            ("extractable", "CKA_EXTRACTABLE"),
            ("readable", "CKA_SENSITIVE"),
            ("aes128", "AES-256"),
        ] {
            // Also with the create flag: an unsafe key is never silently replaced.
            let err = Pkcs11Wrapper::connect_or_create_key(hsm.config(token, USER_PIN))
                .expect_err("unsafe key must be refused");
            match &err {
                Pkcs11Error::UnsafeKey { label, reason } => {
                    assert_eq!(label, KEY_LABEL);
                    assert!(reason.contains(attribute), "{token}: {reason}");
                }
                other => panic!("{token}: expected UnsafeKey, got {other:?}"),
            }
        }
    }
}

softhsm_test! {
    /// One wrapper serves many threads at once.
    fn shared_between_threads(hsm) {
        hsm.init_token("alpha");
        let wrapper = Arc::new(
            Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN)).expect("key"),
        );
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let wrapper = Arc::clone(&wrapper);
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let root_key = random_root_key();
                        let blob = wrapper.wrap(&root_key).expect("wrap");
                        assert_eq!(wrapper.unwrap(&blob).expect("unwrap").expose(), root_key.as_slice());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
    }
}

softhsm_test! {
    /// A server configuration carries the seal in TOML without the PIN,
    /// which comes from YAOSHI_PKCS11_PIN (set for the child by the parent).
    fn config_from_toml_with_pin_from_env(hsm) {
        hsm.init_token("alpha");
        let text = format!(
            "module_path = {:?}\ntoken_label = \"alpha\"\nkey_label = {KEY_LABEL:?}\n",
            hsm.module.display().to_string()
        );
        let config: Pkcs11Config = toml::from_str(&text).expect("parse");
        assert_eq!(
            Pkcs11Wrapper::connect_or_create_key(config.clone()).unwrap_err(),
            Pkcs11Error::Config(
                "no user PIN: set `pin` in the configuration or the YAOSHI_PKCS11_PIN environment variable"
            )
        );
        let wrapper = Pkcs11Wrapper::connect_or_create_key(config.with_env_pin()).expect("connect");
        let root_key = random_root_key();
        let blob = wrapper.wrap(&root_key).expect("wrap");
        assert_eq!(wrapper.unwrap(&blob).expect("unwrap").expose(), root_key.as_slice());

        assert!(
            toml::from_str::<Pkcs11Config>(&format!("{text}pin_file = \"x\"\n")).is_err(),
            "unknown fields are refused"
        );
    }
}

softhsm_test! {
    /// A module path that is not a PKCS#11 library fails cleanly.
    fn bad_module_path_fails_cleanly(hsm) {
        let mut config = hsm.config("alpha", USER_PIN);
        config.module_path = hsm.dir.join("missing.so");
        let err = Pkcs11Wrapper::connect(config).expect_err("missing module");
        assert!(matches!(err, Pkcs11Error::ModuleLoad { .. }), "{err:?}");
        let mut config = hsm.config("alpha", USER_PIN);
        config.module_path = hsm.conf();
        let err = Pkcs11Wrapper::connect(config).expect_err("not a library");
        assert!(matches!(err, Pkcs11Error::ModuleLoad { .. }), "{err:?}");
    }
}

softhsm_test! {
    /// When the token forgets the login (here: another part of the process
    /// logs out, as after an HSM restart), the wrapper logs in again on a new
    /// session and the call succeeds.
    fn recovers_when_the_login_is_lost(hsm) {
        use cryptoki::error::{Error, RvError};
        use cryptoki::session::SessionState;

        hsm.init_token("alpha");
        let wrapper = Pkcs11Wrapper::connect_or_create_key(hsm.config("alpha", USER_PIN))
            .expect("create key");
        let root_key = random_root_key();
        let blob = wrapper.wrap(&root_key).expect("wrap");

        // A second context on the same, already initialised module.
        let pkcs11 = Pkcs11::new(&hsm.module).expect("load");
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            other => panic!("the wrapper should hold the module initialised: {other:?}"),
        }
        let slot = pkcs11.get_slots_with_initialized_token().expect("slots")[0];
        let session = pkcs11.open_ro_session(slot).expect("session");
        assert_eq!(session.get_session_info().expect("info").session_state(), SessionState::RoUser);
        session.logout().expect("C_Logout");
        assert_eq!(session.get_session_info().expect("info").session_state(), SessionState::RoPublic);

        assert_eq!(wrapper.unwrap(&blob).expect("unwrap after lost login").expose(), root_key.as_slice());
        assert_eq!(
            session.get_session_info().expect("info").session_state(),
            SessionState::RoUser,
            "the wrapper logged in again"
        );
        assert!(wrapper.wrap(&root_key).is_ok());
        drop(session);
        // Not finalised here: the wrapper owns the initialisation.
        drop(pkcs11);
        wrapper.close().expect("close");
    }
}

softhsm_test! {
    /// The Kms device seal: init wraps the root key in the HSM, the node comes
    /// up unsealed, and after a restart (new wrapper, new service, same store)
    /// it unseals itself from the HSM (loading the token-hashing key, so the
    /// root token still authenticates); another token's key cannot unseal it.
    fn kms_device_seal_round_trips_and_survives_a_restart(hsm) {
        use std::sync::Arc;
        use yaoshi_core::kms::encryption::{DecryptRequest, EncryptRequest};
        use yaoshi_core::auth::Role;
        use yaoshi_core::kms::{InitRequest, InitSeal};
        use yaoshi_core::secrecy::ExposeSecret;
        use yaoshi_core::{Kms, KmsOptions};
        hsm.init_token("kms");
        hsm.init_token("other");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (ciphertext, root_token) = runtime.block_on(async {
            let wrapper = Arc::new(
                Pkcs11Wrapper::connect_or_create_key(hsm.config("kms", USER_PIN)).expect("connect"),
            );
            let kms = Kms::new(yaoshi_store::open(&url).await.expect("store"), KmsOptions::default());
            let init = kms
                .init(InitRequest::new(InitSeal::Device(wrapper)))
                .await
                .expect("init");
            assert!(init.shares.is_empty());
            let status = kms.seal_status().await.expect("status");
            assert!(!status.sealed);
            assert_eq!(status.seal_type.as_deref(), Some("pkcs11"));
            let root_token = init.root_token.expose_secret().to_string();
            let who = kms.authenticate(&root_token).await.expect("root token right after init");
            assert_eq!(who.principal.roles, [Role::Root]);
            let upsert = EncryptRequest { upsert: true, ..EncryptRequest::default() };
            let ciphertext =
                kms.encrypt("transit", "k", b"sealed by the HSM", upsert).await.expect("encrypt");
            (ciphertext, root_token)
        });
        runtime.block_on(async {
            let kms = Kms::new(yaoshi_store::open(&url).await.expect("store"), KmsOptions::default());
            assert!(kms.is_sealed(), "a restarted node starts sealed");
            let other = Pkcs11Wrapper::connect_or_create_key(hsm.config("other", USER_PIN))
                .expect("other token");
            assert!(kms.unseal_with_device(&other).await.is_err(), "another HSM key cannot unseal");
            assert!(kms.is_sealed());
            let wrapper = Pkcs11Wrapper::connect(hsm.config("kms", USER_PIN)).expect("reconnect");
            let status = kms.unseal_with_device(&wrapper).await.expect("auto-unseal");
            assert!(!status.sealed);
            let who = kms.authenticate(&root_token).await.expect("root token after device unseal");
            assert_eq!(who.principal.name, "root");
            let plain = kms
                .decrypt("transit", "k", &ciphertext, DecryptRequest::default())
                .await
                .expect("decrypt after restart");
            assert_eq!(plain.expose(), b"sealed by the HSM");
            assert!(kms.unseal(&[0; 51]).await.is_err(), "shares do not apply to a device seal");
        });
    }
}
