// GitTix pages work without this script. It only enhances the order page: a live countdown,
// the status kept current while the order is open, and Stripe Elements when configured.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const order = document.getElementById("order");
  if (order) {
    countdown(order);
    followStatus(order);
    stripeElements();
  }
});

function countdown(order) {
  const clock = document.getElementById("countdown");
  const expiresAt = Date.parse(order.dataset.expiresAt);
  if (!clock || Number.isNaN(expiresAt)) return;
  const tick = () => {
    const left = Math.round((expiresAt - Date.now()) / 1000);
    if (left <= 0) {
      clock.textContent = "0:00";
      expire();
      return;
    }
    clock.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    setTimeout(tick, 1000 - (Date.now() % 1000) || 1000);
  };
  tick();
}

// The lock ran out: say so and take the payment form away.
function expire() {
  const status = document.getElementById("order-status");
  if (status) status.textContent = "Order Expired";
  for (const id of ["countdown-line", "payment-form", "cancel-form"]) {
    const element = document.getElementById(id);
    if (element) element.hidden = true;
  }
}

// While the order is open, ask the orders API every two seconds and reload when its status
// changes (paid from another tab, completed after a payment, cancelled on expiry).
function followStatus(order) {
  const shown = order.dataset.orderStatus;
  if (shown === "complete" || shown === "cancelled") return;
  const poll = async () => {
    try {
      const response = await fetch(`/api/orders/${order.dataset.orderId}`, {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      });
      if (response.ok) {
        const current = await response.json();
        if (current.status !== shown) {
          window.location.replace(`/orders/${order.dataset.orderId}`);
          return;
        }
      }
    } catch (_) {
      // Offline for a moment: try again on the next round.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}

// With a Stripe publishable key, Stripe's card field produces the token the form sends.
function stripeElements() {
  const form = document.getElementById("payment-form");
  if (!form || !form.dataset.stripeKey || typeof Stripe === "undefined") return;
  const stripe = Stripe(form.dataset.stripeKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  form.addEventListener("submit", async (event) => {
    if (form.elements.token.value) return;
    event.preventDefault();
    const { token, error } = await stripe.createToken(card);
    if (error) {
      let message = document.getElementById("card-error");
      if (!message) {
        message = document.createElement("p");
        message.id = "card-error";
        message.className = "field-error";
        message.setAttribute("role", "alert");
        document.getElementById("card-element").after(message);
      }
      message.textContent = error.message;
      return;
    }
    form.elements.token.value = token.id;
    form.submit();
  });
}
