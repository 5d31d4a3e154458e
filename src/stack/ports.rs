//! Host ports: the ones labforge.yaml asks for, or free ones when those are busy, and the
//! event that says which port a service really got.

use super::Error;
use super::docker::Container;
use super::kind::PUBLISHED_ON;
use super::project::Service;
use crate::report::{Event, Reporter};

/// Host ports for a service: the requested ones, or free ones when those are busy.
pub fn choose_ports(service: &Service, held: Option<&Container>, strict: bool) -> Result<Vec<(u16, u16)>, Error> {
    let mut chosen = Vec::new();
    for port in &service.ports {
        // The service's own running container holding its port is not a conflict.
        let own = held.is_some_and(|c| c.ports.iter().any(|(cp, _, hp)| *cp == port.container && *hp == port.host));
        if own || port_is_free(port.host) {
            chosen.push((port.container, port.host));
        } else if strict {
            return Err(Error::Port(format!(
                "port {} for `{}` is in use on {PUBLISHED_ON} (free it, change the port in labforge.yaml, or drop `--strict-ports` to let labforge choose one)",
                port.host, service.name
            )));
        } else {
            let free = free_port().map_err(|e| Error::Port(format!("no free port for `{}`: {e}", service.name)))?;
            chosen.push((port.container, free));
        }
    }
    Ok(chosen)
}

/// Says which of a service's ports are published elsewhere than labforge.yaml asks, naming the
/// port the service actually gets (a kept container keeps the port it was given before).
pub fn warn_moved_ports(service: &Service, ports: &[(u16, u16)], report: &dyn Reporter) {
    for port in &service.ports {
        let Some(&(_, used)) = ports.iter().find(|(container, _)| *container == port.container) else {
            continue;
        };
        if used == port.host {
            continue;
        }
        report.emit(Event::PortMoved {
            service: service.name.clone(),
            wanted: port.host,
            used,
            wanted_free: port_is_free(port.host),
            host: PUBLISHED_ON.to_string(),
        });
    }
}

pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind((PUBLISHED_ON, port)).is_ok()
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind((PUBLISHED_ON, 0))?.local_addr()?.port())
}
