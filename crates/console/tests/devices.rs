//! The device registry and networks, through the router: bad addresses and
//! unknown profiles are refused with a message naming the field and store
//! nothing; adding, editing and removing land in the audit trail (so the
//! running filter reloads); the API does the same with a personal token.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Browser, School};
use store::Store;

async fn technician(school: &School) -> Browser {
    school.account("t.tech", "technician", false).await;
    school.with_default_policy().await;
    let mut browser = school.signed_in("t.tech").await;
    browser.get("/devices").await;
    browser
}

#[tokio::test]
async fn devices_are_checked_added_edited_and_removed() {
    let school = School::new().await;
    let mut browser = technician(&school).await;

    let page = browser
        .post(
            "/devices",
            &[
                ("name", "IT suite PC 07"),
                ("address", "10.0.5"),
                ("kind", "Desktop"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("&#x27;10.0.5&#x27; is not an IP address or range. Write it like 10.0.5.17 or 10.0.5.0&#x2f;24."),
        "{}",
        page.body
    );
    assert!(page.body.contains("aria-invalid=\"true\""));
    let page = browser
        .post("/devices", &[("name", " "), ("address", "")])
        .await;
    assert!(
        page.body.contains("Give the device a name"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Enter the device&#x27;s IP address"),
        "{}",
        page.body
    );
    assert!(school.store.devices().await.unwrap().is_empty());

    let before = school.store.audit_high_water().await.unwrap();
    browser
        .post(
            "/devices",
            &[
                ("name", "IT suite PC 07"),
                ("address", "10.0.5.17"),
                ("kind", "Desktop"),
                ("owner", "IT suite"),
                ("school_owned", "yes"),
            ],
        )
        .await
        .redirects_to("/devices?done=device-saved");
    assert!(school.store.audit_high_water().await.unwrap() > before);
    let devices = school.store.devices().await.unwrap();
    assert_eq!(devices[0].address, "10.0.5.17/32");
    assert!(devices[0].school_owned);

    // The same name again is refused, not overwritten.
    let page = browser
        .post(
            "/devices",
            &[("name", "IT suite PC 07"), ("address", "10.0.5.18")],
        )
        .await;
    assert!(
        page.body.contains("There is already a device called"),
        "{}",
        page.body
    );

    // The list links to the device by its escaped name; edit it.
    let list = browser.get("/devices").await;
    assert!(common::unescape(&list.body).contains("href=\"/devices/IT%20suite%20PC%2007\""));
    let edit = browser.get("/devices/IT%20suite%20PC%2007").await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(common::unescape(&edit.body).contains("value=\"10.0.5.17/32\""));
    browser
        .post(
            "/devices/IT%20suite%20PC%2007",
            &[
                ("address", "10.0.5.0/28"),
                ("kind", "Desktop"),
                ("owner", "A. Pupil's loan"),
            ],
        )
        .await
        .redirects_to("/devices?done=device-saved");
    let devices = school.store.devices().await.unwrap();
    assert_eq!(devices[0].address, "10.0.5.0/28");
    assert!(!devices[0].school_owned);

    browser
        .post("/devices/IT%20suite%20PC%2007/remove", &[])
        .await
        .redirects_to("/devices?done=device-removed");
    assert!(school.store.devices().await.unwrap().is_empty());
    assert_eq!(
        school.store.audit_trail(1).await.unwrap()[0].action,
        "device.remove"
    );
    assert_eq!(
        browser.get("/devices/IT%20suite%20PC%2007").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn networks_need_good_ranges_and_a_profile_in_force() {
    let school = School::new().await;
    let mut browser = technician(&school).await;
    browser.get("/networks").await;
    let page = browser
        .post(
            "/networks",
            &[
                ("name", "Guest Wi-Fi"),
                ("ranges", "10.50.0.0/16\n10.51.0/24"),
                ("profile", "visitors"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("&#x27;10.51.0&#x2f;24&#x27; is not an address range"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("There is no profile &#x27;visitors&#x27;"),
        "{}",
        page.body
    );
    assert!(school.store.networks().await.unwrap().is_empty());

    browser
        .post(
            "/networks",
            &[
                ("name", "Guest Wi-Fi"),
                ("ranges", "10.50.0.0/16, 10.51.0.0/24"),
                ("profile", "guest"),
            ],
        )
        .await
        .redirects_to("/networks?done=network-saved");
    let networks = school.store.networks().await.unwrap();
    assert_eq!(networks[0].ranges, ["10.50.0.0/16", "10.51.0.0/24"]);
    assert_eq!(networks[0].profile, "guest");
    browser
        .post(
            "/networks/Guest%20Wi-Fi",
            &[("ranges", "10.50.0.0/16"), ("profile", "staff")],
        )
        .await
        .redirects_to("/networks?done=network-saved");
    assert_eq!(school.store.networks().await.unwrap()[0].profile, "staff");
    browser
        .post("/networks/Guest%20Wi-Fi/remove", &[])
        .await
        .redirects_to("/networks?done=network-removed");
    assert!(school.store.networks().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_api_keeps_devices_and_networks_with_a_personal_token() {
    let school = School::new().await;
    let mut browser = technician(&school).await;
    let token = browser.make_token("Inventory").await;
    let bearer = format!("Bearer {token}");
    let mut script = school.browser();
    let json = |method: Method, path: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };

    let page = script
        .send(json(
            Method::POST,
            "/api/v1/devices",
            r#"{"name": "Laptop 3", "address": "999.1.1.1", "school_owned": true}"#,
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("address: '999.1.1.1' is not an IP address"),
        "{}",
        page.body
    );
    let page = script
        .send(json(
            Method::POST,
            "/api/v1/devices",
            r#"{"name": "Laptop 3"}"#,
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("not the JSON this call expects"),
        "{}",
        page.body
    );

    let page = script
        .send(json(Method::POST, "/api/v1/devices", r#"{"name": "Laptop 3", "kind": "Laptop", "address": "10.0.6.3", "owner": "Year 6 trolley", "school_owned": true}"#))
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let page = script
        .call(
            Method::GET,
            "/api/v1/devices",
            &[("authorization", &bearer)],
        )
        .await;
    let devices: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(devices[0]["address"], "10.0.6.3/32");
    let page = script
        .call(
            Method::DELETE,
            "/api/v1/devices/Laptop%203",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NO_CONTENT);
    let page = script
        .call(
            Method::DELETE,
            "/api/v1/devices/Laptop%203",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let page = script
        .send(json(
            Method::POST,
            "/api/v1/networks",
            r#"{"name": "Guest", "ranges": ["10.50.0.0/16"], "profile": "nobody"}"#,
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("profile: There is no profile 'nobody'"),
        "{}",
        page.body
    );
    let page = script
        .send(json(
            Method::POST,
            "/api/v1/networks",
            r#"{"name": "Guest", "ranges": ["10.50.0.0/16"], "profile": "guest"}"#,
        ))
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let page = script
        .call(
            Method::GET,
            "/api/v1/networks",
            &[("authorization", &bearer)],
        )
        .await;
    assert!(page.body.contains("\"profile\":\"guest\""), "{}", page.body);
    let page = script
        .call(
            Method::DELETE,
            "/api/v1/networks/Guest",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NO_CONTENT);
    assert_eq!(
        school.store.audit_trail(1).await.unwrap()[0].action,
        "network.remove"
    );
}
