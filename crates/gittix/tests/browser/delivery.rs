//! Selling a seat for an event with the ticket's file, and the buyer downloading it: the
//! events pages, the sell form's event step, the upload form and "My tickets".

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{Driver, Site};

const PDF: &[u8] = b"%PDF-1.4\n% GitTix test ticket\n%%EOF\n";

#[tokio::test]
async fn a_seller_lists_a_seat_for_an_event_with_its_file_and_the_buyer_downloads_it() {
    let site = Site::start();
    let driver = Driver::start().await;
    let test = "event_seat_delivery";
    // The cluster is shared with the other tests: the event's name is this run's own.
    let name = format!(
        "Delivery Night {}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let seller = driver.browser(&site, test, "seller", 1280, 900).await;
    seller.sign_up(&site, "seller").await;

    // Selling for an event: look for it, do not find it, add it.
    seller.visit(&site.url("/tickets/new"), "sell").await;
    seller.fill("#find", &name).await;
    seller.submit("#find-event button", "event-not-found").await;
    assert!(seller
        .page_text()
        .await
        .contains("No upcoming event matches"));
    seller
        .click_for_next_page(Locator::LinkText("Not listed? Add the event"), "add-event")
        .await;
    seller.fill("#name", &name).await;
    seller.fill("#venue", "Blue Hall").await;
    seller.fill("#city", "Lyon").await;
    let in_a_month =
        gittix_shared::time::iso8601(gittix_shared::time::unix_millis() + 30 * 86_400_000);
    let local = format!("{}T20:00", &in_a_month[..10]);
    seller
        .client
        .execute(
            "document.getElementById('startsAt').value = arguments[0]",
            vec![json!(local)],
        )
        .await
        .unwrap();
    seller
        .submit("main button[type=submit]", "event-added")
        .await;
    assert!(seller.path().await.starts_with("/tickets/new?event="));
    assert!(seller.text("#selling-for").await.contains(&name));

    seller.fill("#title", "Front row seat").await;
    seller.fill("#price", "55").await;
    seller.fill("#section", "Floor").await;
    seller.fill("#row", "A").await;
    seller.fill("#seat", "7").await;
    seller.fill("#faceValue", "50").await;
    seller
        .submit("#ticket-form button[type=submit]", "seat-listed")
        .await;
    let ticket_page = seller.path().await;
    let ticket_id = ticket_page.trim_start_matches("/tickets/").to_owned();
    assert_eq!(seller.text("#seat").await, "Section Floor, row A, seat 7");
    assert!(seller.text(".event-meta").await.contains(&name));

    // The file, uploaded from the listings with the form (no script needed).
    seller.upload_from_listings(&site, &ticket_id, PDF).await;

    // The buyer finds the event on the home page, and the seat on its page.
    let buyer = driver.browser(&site, test, "buyer", 1280, 900).await;
    buyer.sign_up(&site, "buyer").await;
    buyer.fill("#events", &name).await;
    buyer.submit("#event-search button", "events-found").await;
    assert!(buyer
        .text("#event-list")
        .await
        .contains(&format!("1 ticket at {}", site.buyer_pays(5500))));
    buyer
        .click_for_next_page(Locator::LinkText(&name), "event")
        .await;
    assert!(buyer
        .text("table.seats")
        .await
        .contains("Section Floor, row A, seat 7"));
    buyer
        .click_for_next_page(Locator::Css("table.seats a"), "ticket")
        .await;
    assert_eq!(buyer.path().await, ticket_page);
    buyer.submit("main button[type=submit]", "order").await;
    buyer.enter_card("4242 4242 4242 4242").await;
    buyer.submit("#payment-form button", "paid").await;
    buyer.wait_for_text("#order-status", "Order complete").await;
    buyer
        .wait_for_text("#delivery", "Your ticket is ready")
        .await;
    buyer.screenshot("order-delivered").await;

    // "My tickets" has it, and the download is the seller's file, byte for byte.
    buyer.visit(&site.url("/my-tickets"), "my-tickets").await;
    assert!(buyer
        .text(&format!("#ticket-{ticket_id}"))
        .await
        .contains("Delivered"));
    let downloaded = buyer
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-disposition'), Array.from(new Uint8Array(await r.arrayBuffer()))]));",
            vec![json!(format!("/tickets/{ticket_id}/file"))],
        )
        .await
        .unwrap();
    assert_eq!(downloaded[0], json!(200));
    assert!(
        downloaded[1].as_str().unwrap().starts_with("attachment"),
        "{downloaded}"
    );
    let bytes: Vec<u8> = serde_json::from_value(downloaded[2].clone()).unwrap();
    assert_eq!(bytes, PDF);
}
