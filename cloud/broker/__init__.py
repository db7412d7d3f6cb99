"""The MQTT broker's side of the system: per-device access rules from the
catalog (`access`) and the `vmi cloud mosquitto-config` command that writes
Mosquitto's password and ACL files from them (`mosquitto_config`)."""
