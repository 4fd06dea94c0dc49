/**
 * Syslog over UDP: one datagram per message (pipeline.md §11.4), from an unconnected socket to the
 * address `syslog.host` resolved at init (as Go's `net.Dial("udp")`, which resolves once).
 *
 * UDP gives no delivery guarantee and no flow control: a datagram the network or the receiver drops is
 * gone without a trace (the server's receive buffer overflows when it reads slower than we send). We wait
 * for each datagram to be handed to the kernel before sending the next, which paces the sender a little.
 * A message larger than a UDP datagram can carry (65507 bytes of payload over IPv4, 65527 over IPv6)
 * cannot be sent: the kernel refuses it with EMSGSIZE and the message is dropped and counted.
 */
import * as dgram from "node:dgram"
import * as dns from "node:dns/promises"

export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

/** `dns.lookup` of the host (the first address, as the OS orders them). */
export const resolveHost = async (host: string): Promise<ResolvedAddress> => {
  const r = await dns.lookup(host)
  return { address: r.address, family: r.family === 6 ? 6 : 4 }
}

/** Whether a send error means "this message can never be sent" rather than "try again". */
export const isOversize = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { code?: unknown }).code === "EMSGSIZE"

export class DatagramSender {
  private socket: dgram.Socket | undefined
  private failure: Error | undefined

  constructor(
    readonly target: ResolvedAddress,
    readonly port: number
  ) {}

  private open(): dgram.Socket {
    if (this.socket !== undefined && this.failure === undefined) return this.socket
    this.close()
    const s = dgram.createSocket(this.target.family === 6 ? "udp6" : "udp4")
    this.failure = undefined
    s.on("error", (e) => {
      if (this.socket === s) this.failure = e
    })
    this.socket = s
    return s
  }

  /** Sends one datagram; resolves once the kernel took it. */
  send(datagram: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let s: dgram.Socket
      try {
        s = this.open()
      } catch (e) {
        return reject(e as Error)
      }
      try {
        s.send(datagram, this.port, this.target.address, (err) => {
          if (err) {
            if (!isOversize(err)) this.failure = err
            reject(err)
          } else resolve()
        })
      } catch (e) {
        this.failure = e as Error
        reject(e as Error)
      }
    })
  }

  close(): void {
    const s = this.socket
    this.socket = undefined
    if (s !== undefined) {
      try {
        s.close()
      } catch {
        // already closed
      }
    }
  }
}
