use gittix_shared::domain::TicketStatus;
use gittix_testing::topology_tests;
use serde_json::json;

use crate::helpers::*;

topology_tests! {
    async fn an_update_that_arrives_before_its_predecessor_is_applied_after_it(topology) {
        let app = OrdersApp::spawn(topology).await;
        let seller = app.user();
        let id = uuid::Uuid::now_v7().to_string();
        // Version 1 reaches orders before version 0.
        app.ticket_updated(&seller, &id, 1, "Renamed", 2500, TicketStatus::ForSale).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.reserve(&app.user(), &id).await.status(), 404, "not known before its creation is applied");
        let created = gittix_shared::events::TicketCreated { id: id.clone(), version: 0, title: "Original".into(), price: 2000, user_id: seller.id.clone(), terms: Default::default() };
        gittix_testing::publish_event(app.bus(), &created).await;
        app.replica_version_is(&id, 1).await;
        let order = app.reserved(&app.user(), &id).await;
        assert_eq!(order["ticket"], json!({"id": id, "title": "Renamed", "price": 25, "version": 1}));
    }
}
