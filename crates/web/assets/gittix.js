// GitTix pages work without this script. It only enhances the order page (a live countdown,
// the status kept current while the order is open, and Stripe Elements when configured), runs
// Stripe.js's 3-D Secure check when Stripe's keys are configured, and fills in the UTC offset
// of a new event's start from the browser's time zone.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const order = document.getElementById("order");
  if (order) {
    countdown(order);
    followStatus(order);
    stripeElements();
  }
  stripeChallenge();
  localOffset();
});

// The offset of the chosen start in the browser's time zone (summer time included), unless the
// visitor typed one.
function localOffset() {
  const offset = document.querySelector("[data-local-offset]");
  const start = document.getElementById("startsAt");
  if (!offset || !start) return;
  const typed = () => offset.value !== offset.defaultValue;
  offset.form.addEventListener("submit", () => {
    const at = new Date(start.value);
    if (typed() || Number.isNaN(at.getTime())) return;
    const minutes = -at.getTimezoneOffset();
    const whole = Math.abs(minutes);
    const sign = minutes < 0 ? "-" : "+";
    offset.value = `${sign}${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
  });
}

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
// changes (paid from another tab, completed after a payment, cancelled on expiry). A complete
// order is followed until its ticket is delivered (or the deadline passes): every two seconds
// while its delivery is not known yet, every ten while the seller's file is awaited.
function followStatus(order) {
  const shown = order.dataset.orderStatus;
  const shownDelivery = order.dataset.orderDelivery || "";
  if (shown === "cancelled") return;
  if (shown === "complete" && shownDelivery !== "" && shownDelivery !== "awaiting") return;
  const every = shownDelivery === "awaiting" ? 10000 : 2000;
  const poll = async () => {
    try {
      const response = await fetch(`/api/orders/${order.dataset.orderId}`, {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      });
      if (response.ok) {
        const current = await response.json();
        // Created and awaiting payment read the same to the buyer: the tickets service
        // confirming the reservation must not reload a card form being filled in.
        const payable = (status) => status === "created" || status === "awaiting:payment";
        const statusChanged = current.status !== shown && !(payable(current.status) && payable(shown));
        const deliveryChanged = shown === "complete" && (current.delivery || "") !== shownDelivery;
        if (statusChanged || deliveryChanged) {
          window.location.replace(`/orders/${order.dataset.orderId}`);
          return;
        }
      }
    } catch (_) {
      // Offline for a moment: try again on the next round.
    }
    setTimeout(poll, every);
  };
  setTimeout(poll, every);
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

// With Stripe's keys, Stripe.js plays the bank's 3-D Secure check; whatever it ends with, the
// form then asks GitTix, which asks Stripe how the payment stands.
function stripeChallenge() {
  const form = document.getElementById("challenge-form");
  if (!form || !form.dataset.stripeKey || typeof Stripe === "undefined") return;
  const stripe = Stripe(form.dataset.stripeKey);
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      await stripe.handleNextAction({ clientSecret: form.dataset.clientSecret });
    } finally {
      form.submit();
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  if (form.dataset.start) check();
}
