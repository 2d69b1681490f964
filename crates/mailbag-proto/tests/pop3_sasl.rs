//! SASL mechanisms against the RFCs' example exchanges.

use mailbag_proto::sasl::{Credentials, Mechanism, SaslClient, SaslError};

fn scram(password: &str) -> SaslClient {
    SaslClient::with_client_nonce(
        Mechanism::ScramSha256,
        Credentials::new("user", password),
        "rOprNGfwEbeRWgbNEkqO".to_owned(),
    )
}

const SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

#[test]
fn scram_sha256_rfc7677_vector() {
    let mut c = scram("pencil");
    let first = c.initial_response().unwrap().unwrap();
    assert_eq!(first, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    let fin = c.step(SERVER_FIRST).unwrap();
    assert_eq!(
        std::str::from_utf8(&fin).unwrap(),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
         p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    );
    assert!(!c.is_complete());
    let last = c
        .step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap();
    assert!(last.is_empty());
    assert!(c.is_complete());
    c.verify_final(None).unwrap();
}

#[test]
fn scram_server_final_as_success_data() {
    let mut c = scram("pencil");
    c.initial_response();
    c.step(SERVER_FIRST).unwrap();
    assert_eq!(c.verify_final(None), Err(SaslError::Incomplete));
    c.verify_final(Some(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
        .unwrap();
}

#[test]
fn scram_rejects_bad_server_signature() {
    let mut c = scram("pencil");
    c.initial_response();
    c.step(SERVER_FIRST).unwrap();
    let err = c
        .step(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap_err();
    assert_eq!(err, SaslError::ServerSignatureMismatch);
    assert!(!c.is_complete());
}

#[test]
fn scram_rejects_foreign_nonce_and_silly_iterations() {
    let mut c = scram("pencil");
    c.initial_response();
    let err = c.step(b"r=XXXXNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assert_eq!(err, Err(SaslError::NonceMismatch));
    let mut c = scram("pencil");
    c.initial_response();
    let err = c.step(b"r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0");
    assert_eq!(err, Err(SaslError::IterationCount(0)));
    let mut c = scram("pencil");
    c.initial_response();
    assert!(matches!(
        c.step(b"garbage"),
        Err(SaslError::MalformedChallenge(_))
    ));
    let mut c = scram("pencil");
    c.initial_response();
    assert!(matches!(
        c.step(b"e=unknown-user"),
        Err(SaslError::ServerError(_))
    ));
}

#[test]
fn scram_escapes_user_name_and_random_nonce_differs() {
    let mut a = SaslClient::new(Mechanism::ScramSha256, Credentials::new("a=b,c", "x"));
    let mut b = SaslClient::new(Mechanism::ScramSha256, Credentials::new("a=b,c", "x"));
    let fa = a.initial_response().unwrap().unwrap();
    let fb = b.initial_response().unwrap().unwrap();
    assert!(fa.starts_with(b"n,,n=a=3Db=2Cc,r="));
    assert_ne!(fa, fb);
}

#[test]
fn cram_md5_rfc2195_example() {
    let mut c = SaslClient::new(
        Mechanism::CramMd5,
        Credentials::new("tim", "tanstaaftanstaaf"),
    );
    assert!(c.initial_response().is_none());
    let r = c
        .step(b"<1896.697170952@postoffice.reston.mci.net>")
        .unwrap();
    assert_eq!(r, b"tim b913a602c7eda7a495b4e6e7334d3890");
    assert!(c.is_complete());
}

#[test]
fn plain_and_login() {
    let mut p = SaslClient::new(Mechanism::Plain, Credentials::new("tim", "pw"));
    assert_eq!(p.initial_response().unwrap().unwrap(), b"\0tim\0pw");
    assert!(p.is_complete());
    // Without SASL-IR the first challenge is empty and gets the same answer.
    let mut p = SaslClient::new(Mechanism::Plain, Credentials::new("tim", "pw"));
    assert_eq!(p.step(b"").unwrap(), b"\0tim\0pw");

    let mut l = SaslClient::new(Mechanism::Login, Credentials::new("tim", "pw"));
    assert!(l.initial_response().is_none());
    assert_eq!(l.step(b"Username:").unwrap(), b"tim");
    assert_eq!(l.step(b"Password:").unwrap(), b"pw");
    assert!(l.is_complete());
    assert!(l.step(b"more?").is_err());
}

#[test]
fn xoauth2_and_oauthbearer_with_error_step() {
    let mut x = SaslClient::new(Mechanism::XOAuth2, Credentials::new("me@x", "tok"));
    assert_eq!(
        x.initial_response().unwrap().unwrap(),
        b"user=me@x\x01auth=Bearer tok\x01\x01"
    );
    assert_eq!(x.step(br#"{"status":"401"}"#).unwrap(), b"");
    assert_eq!(x.oauth_error(), Some(&br#"{"status":"401"}"#[..]));

    let mut o = SaslClient::new(Mechanism::OAuthBearer, Credentials::new("me@x", "tok"));
    assert_eq!(
        o.initial_response().unwrap().unwrap(),
        b"n,a=me@x,\x01auth=Bearer tok\x01\x01"
    );
    assert!(o.is_complete());
    assert_eq!(o.step(br#"{"status":"invalid_token"}"#).unwrap(), b"\x01");
    assert_eq!(o.verify_final(None), Err(SaslError::Incomplete));
}

#[test]
fn names_round_trip_and_secret_hidden() {
    for m in Mechanism::ALL {
        assert_eq!(Mechanism::from_name(&m.name().to_lowercase()), Some(m));
    }
    let c = SaslClient::new(Mechanism::Plain, Credentials::new("u", "hunter2"));
    assert!(!format!("{c:?}").contains("hunter2"));
}
