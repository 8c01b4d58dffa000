// The local server's development sign-in: the demo directory, a button per agent;
// choosing one signs in as her (POST /api/dev/sign-in), keeps the session where the
// console keeps it (sessionStorage, "agent-console.session": frontend/src/app.rs) and
// opens the console. It stands where an identity provider's page stands in AWS.

const SESSION_KEY = "agent-console.session";
const card = document.querySelector(".sign-in-card");
const alert = card.querySelector(".alert");

function problem(message) {
  alert.textContent = message;
  alert.hidden = false;
}

async function failure(response) {
  const body = await response.json().catch(() => null);
  return (body && body.message) || `The server answered ${response.status}.`;
}

function element(name, attributes, ...children) {
  const made = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  made.append(...children);
  return made;
}

async function signIn(tenant, agent) {
  try {
    const response = await fetch("/api/dev/sign-in", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant, agent }),
    });
    if (!response.ok) return problem(await failure(response));
    sessionStorage.setItem(SESSION_KEY, await response.text());
    location.replace("/");
  } catch {
    problem("The local server cannot be reached.");
  }
}

function tenantSection(tenant) {
  const choices = element("ul", { class: "agent-choices" });
  for (const agent of tenant.agents) {
    const button = element("button", { class: "choice", type: "button" }, agent.name);
    button.addEventListener("click", () => signIn(tenant.id, agent.id));
    const role = agent.role === "supervisor" ? " · Supervisor" : "";
    choices.append(element("li", {}, button, element("span", { class: "muted" }, agent.group + role)));
  }
  return element("section", { class: "tenant", "aria-label": tenant.name }, element("h2", {}, tenant.name), choices);
}

async function main() {
  const loading = card.querySelector(".loading");
  try {
    const response = await fetch("/api/dev/directory");
    if (!response.ok) return problem(await failure(response));
    const directory = await response.json();
    card.append(...directory.tenants.map(tenantSection));
  } catch {
    problem("The local server cannot be reached.");
  } finally {
    loading.remove();
  }
}

main();
