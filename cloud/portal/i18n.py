"""The portal's words in English and Simplified Chinese, the language a request gets, and
numbers and times written the way each reader expects.

    locale = pick_locale(cookie="zh", accept_language="en-GB,en;q=0.9")   # "zh"
    t = translator(locale); t("orders.confirm")                            # "确认"
    format_number(1234.5, "zh"); format_time(at, "zh", "Asia/Shanghai")

Every key has both languages (a test checks that none is missing and that no
Chinese entry is left in English). Times are shown in the reader's zone when
the browser said it (`tz` cookie set by portal.js), else in UTC, and always
say which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("en", "zh")
DEFAULT_LOCALE = "en"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "app.title": "VMI portal",
        "nav.stock": "Stock",
        "nav.orders": "Orders",
        "nav.alerts": "Alerts",
        "nav.devices": "Devices",
        "nav.kpis": "KPIs",
        "nav.suggestions": "Suggestions",
        "nav.signout": "Sign out",
        "nav.language": "中文",
        "login.title": "Sign in",
        "login.login": "Login",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Wrong login or password.",
        "login.limited": "Too many attempts. Wait a few minutes, then try again.",
        "login.signed_in_as": "Signed in as",
        "role.admin": "Administrator",
        "role.supplier": "Supplier",
        "role.customer": "Customer",
        "stock.title": "Stock",
        "stock.site": "Site",
        "stock.sku": "SKU",
        "stock.on_hand": "On hand",
        "stock.cover": "Days of cover",
        "stock.reorder_point": "Reorder point",
        "stock.open_order": "Open order",
        "stock.state": "State",
        "stock.updated": "Updated",
        "stock.filter": "Filter",
        "stock.filter_placeholder": "site or SKU",
        "stock.none": "No shelves to show.",
        "stock.live": "Live",
        "state.ok": "OK",
        "state.reorder": "Reorder",
        "state.stockout": "Out of stock",
        "state.unknown": "No data",
        "orders.title": "Orders",
        "orders.id": "Order",
        "orders.quantity": "Quantity",
        "orders.status": "Status",
        "orders.created": "Raised",
        "orders.arrival": "Expected arrival",
        "orders.reason": "Why",
        "orders.actions": "Actions",
        "orders.confirm": "Confirm",
        "orders.ship": "Ship",
        "orders.receive": "Receive",
        "orders.cancel": "Cancel",
        "orders.cancel_reason": "Reason",
        "orders.received_qty": "Received quantity",
        "orders.none": "No orders.",
        "orders.all": "All",
        "orders.done": "Order {id} is now {status}.",
        "orders.refused": "Not done: {reason}",
        "status.proposed": "Proposed",
        "status.confirmed": "Confirmed",
        "status.shipped": "Shipped",
        "status.received": "Received",
        "status.cancelled": "Cancelled",
        "shelf.title": "Shelf {site} / {sku}",
        "shelf.history": "Level and projection",
        "shelf.terms": "Agreement",
        "shelf.why": "Why the last order was raised",
        "shelf.lead_time": "Lead time (days)",
        "shelf.service_level": "Service level",
        "shelf.min_max": "Min / max",
        "shelf.supplier": "Supplier",
        "shelf.no_terms": "No agreement for this shelf.",
        "shelf.orders": "Orders of this shelf",
        "shelf.stockout_day": "Stockout day (10 / 50 / 90 %)",
        "shelf.rate": "Use per day",
        "shelf.position_now": "Inventory position now",
        "error.not_found": "Not found.",
        "error.forbidden": "Your role may not do this.",
        "error.csrf": "This form has expired. Reload the page and try again.",
        "common.back": "Back",
        "common.units": "units",
        "common.days": "days",
        "common.times_in": "Times in {zone}",
        "account.title": "My account",
        "account.change_password": "Change password",
        "account.current": "Current password",
        "account.new": "New password (at least 10 characters)",
        "account.repeat": "New password again",
        "account.save": "Change",
        "account.differ": "The two new passwords differ.",
        "account.wrong_current": "The current password is wrong.",
        "account.weak": "Choose a password of at least 10 characters, not the login.",
        "alerts.title": "Alerts",
        "alerts.time": "Time",
        "alerts.kind": "Kind",
        "alerts.what": "SKU or device",
        "alerts.message": "Message",
        "alerts.none": "No alerts in the last days.",
        "alert.reorder": "Reorder",
        "alert.stockout_imminent": "Stockout soon",
        "alert.stockout": "Stockout",
        "alert.sensor_silent": "Sensor silent",
        "alert.sensor_anomaly": "Sensor anomaly",
        "alert.device_offline": "Device offline",
        "devices.title": "Devices",
        "devices.device": "Device",
        "devices.last_seen": "Last seen",
        "devices.outbox": "Outbox",
        "devices.faults": "Faulted drivers",
        "devices.version": "Agent version",
        "devices.none": "No devices reported in the last days.",
        "device.ok": "Online",
        "device.fault": "Fault",
        "device.offline": "Offline",
        "device.unknown": "No status",
        "kpis.title": "KPIs",
        "kpis.window": "last {days} days",
        "kpis.by_key": "Per shelf",
        "kpis.by_site": "Per site",
        "kpis.by_customer": "Per customer",
        "kpis.by_supplier": "Per supplier",
        "kpis.group": "Shelf or group",
        "kpis.turns": "Turns a year",
        "kpis.avg_on_hand": "Average on hand",
        "kpis.days_of_supply": "Days of supply",
        "kpis.fill_rate": "Fill rate",
        "kpis.stockouts": "Stockouts",
        "kpis.orders": "Orders",
        "kpis.on_time": "On time",
        "kpis.mase": "Forecast error (MASE)",
        "kpis.none": "No shelves with data yet.",
        "suggestions.title": "Suggestions",
        "suggestions.review": "Review period (days)",
        "suggestions.why": "Why",
        "suggestions.accept": "Accept",
        "suggestions.dismiss": "Dismiss",
        "suggestions.note": "Note",
        "suggestions.accepted": "accepted",
        "suggestions.dismissed": "dismissed",
        "suggestions.done": "Suggestion {id} {what}.",
        "suggestions.none": "No open suggestions.",
    },
    "zh": {
        "app.title": "供应商管理库存门户",
        "nav.stock": "库存",
        "nav.orders": "订单",
        "nav.alerts": "告警",
        "nav.devices": "设备",
        "nav.kpis": "关键指标",
        "nav.suggestions": "建议",
        "nav.signout": "退出登录",
        "nav.language": "English",
        "login.title": "登录",
        "login.login": "账号",
        "login.password": "密码",
        "login.submit": "登录",
        "login.failed": "账号或密码错误。",
        "login.limited": "尝试次数过多，请几分钟后再试。",
        "login.signed_in_as": "当前用户",
        "role.admin": "管理员",
        "role.supplier": "供应商",
        "role.customer": "客户",
        "stock.title": "库存",
        "stock.site": "库位站点",
        "stock.sku": "物料编码",
        "stock.on_hand": "现有库存",
        "stock.cover": "可供天数",
        "stock.reorder_point": "再订货点",
        "stock.open_order": "在途订单",
        "stock.state": "状态",
        "stock.updated": "更新时间",
        "stock.filter": "筛选",
        "stock.filter_placeholder": "站点或物料编码",
        "stock.none": "没有可显示的货架。",
        "stock.live": "实时",
        "state.ok": "正常",
        "state.reorder": "需补货",
        "state.stockout": "缺货",
        "state.unknown": "无数据",
        "orders.title": "订单",
        "orders.id": "订单号",
        "orders.quantity": "数量",
        "orders.status": "状态",
        "orders.created": "下单时间",
        "orders.arrival": "预计到货",
        "orders.reason": "原因",
        "orders.actions": "操作",
        "orders.confirm": "确认",
        "orders.ship": "发货",
        "orders.receive": "收货",
        "orders.cancel": "取消",
        "orders.cancel_reason": "取消原因",
        "orders.received_qty": "实收数量",
        "orders.none": "没有订单。",
        "orders.all": "全部",
        "orders.done": "订单 {id} 已{status}。",
        "orders.refused": "未执行：{reason}",
        "status.proposed": "待确认",
        "status.confirmed": "已确认",
        "status.shipped": "已发货",
        "status.received": "已收货",
        "status.cancelled": "已取消",
        "shelf.title": "货架 {site} / {sku}",
        "shelf.history": "库存水平与预测",
        "shelf.terms": "协议条款",
        "shelf.why": "上一笔订单的下单原因",
        "shelf.lead_time": "提前期（天）",
        "shelf.service_level": "服务水平",
        "shelf.min_max": "最低 / 最高",
        "shelf.supplier": "供应商",
        "shelf.no_terms": "该货架没有协议。",
        "shelf.orders": "该货架的订单",
        "shelf.stockout_day": "缺货日（10 / 50 / 90 %）",
        "shelf.rate": "日均消耗",
        "shelf.position_now": "当前库存头寸",
        "error.not_found": "未找到。",
        "error.forbidden": "您的角色无权执行此操作。",
        "error.csrf": "表单已过期，请刷新页面后重试。",
        "common.back": "返回",
        "common.units": "件",
        "common.days": "天",
        "common.times_in": "时间以 {zone} 显示",
        "account.title": "我的账户",
        "account.change_password": "修改密码",
        "account.current": "当前密码",
        "account.new": "新密码（至少 10 个字符）",
        "account.repeat": "再次输入新密码",
        "account.save": "修改",
        "account.differ": "两次输入的新密码不一致。",
        "account.wrong_current": "当前密码错误。",
        "account.weak": "请使用至少 10 个字符且不同于账号的密码。",
        "alerts.title": "告警",
        "alerts.time": "时间",
        "alerts.kind": "类型",
        "alerts.what": "物料或设备",
        "alerts.message": "内容",
        "alerts.none": "近几天没有告警。",
        "alert.reorder": "补货",
        "alert.stockout_imminent": "即将缺货",
        "alert.stockout": "缺货",
        "alert.sensor_silent": "传感器无数据",
        "alert.sensor_anomaly": "传感器异常",
        "alert.device_offline": "设备离线",
        "devices.title": "设备",
        "devices.device": "设备",
        "devices.last_seen": "最后上报",
        "devices.outbox": "待发消息",
        "devices.faults": "故障驱动",
        "devices.version": "代理版本",
        "devices.none": "近几天没有设备上报。",
        "device.ok": "在线",
        "device.fault": "故障",
        "device.offline": "离线",
        "device.unknown": "无状态",
        "kpis.title": "关键指标",
        "kpis.window": "最近 {days} 天",
        "kpis.by_key": "按货架",
        "kpis.by_site": "按站点",
        "kpis.by_customer": "按客户",
        "kpis.by_supplier": "按供应商",
        "kpis.group": "货架或分组",
        "kpis.turns": "年周转次数",
        "kpis.avg_on_hand": "平均库存",
        "kpis.days_of_supply": "可供天数",
        "kpis.fill_rate": "满足率",
        "kpis.stockouts": "缺货次数",
        "kpis.orders": "订单数",
        "kpis.on_time": "准时率",
        "kpis.mase": "预测误差（MASE）",
        "kpis.none": "暂无有数据的货架。",
        "suggestions.title": "优化建议",
        "suggestions.review": "检查周期（天）",
        "suggestions.why": "理由",
        "suggestions.accept": "采纳",
        "suggestions.dismiss": "忽略",
        "suggestions.note": "备注",
        "suggestions.accepted": "已采纳",
        "suggestions.dismissed": "已忽略",
        "suggestions.done": "建议 {id} {what}。",
        "suggestions.none": "没有待处理的建议。",
    },
}

Translator = Callable[..., str]


def pick_locale(cookie: str | None, accept_language: str | None) -> str:
    """The reader's language: the switch's cookie if set, else the browser's first
    language we have (`zh-CN`, `zh-Hans`, `zh` -> zh), else English."""
    if cookie in LOCALES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LOCALES and quality > 0:
            ranked.append((-quality, n, base))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


def translator(locale: str) -> Translator:
    """`t(key, **values)`: the key's text in `locale`, values filled in."""
    words = MESSAGES[locale if locale in MESSAGES else DEFAULT_LOCALE]

    def t(key: str, **values: object) -> str:
        text = words[key]
        return text.format(**values) if values else text

    return t


def format_number(value: float | None, locale: str, decimals: int = 1) -> str:
    """`1,234.5` (both languages group thousands by three with a comma); `-` for None."""
    if value is None:
        return "–"
    if float(value).is_integer() and decimals > 0:
        return f"{int(value):,}"
    return f"{value:,.{decimals}f}"


def zone(name: str | None) -> tzinfo:
    """The reader's time zone by IANA name (the browser's), else UTC."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name[:64])
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def format_time(at: datetime | None, locale: str, tz: tzinfo = UTC) -> str:
    """`5 Dec 2026 09:30` / `2026年12月5日 09:30`, in `tz`; `-` for None."""
    if at is None:
        return "–"
    local = at.astimezone(tz)
    if locale == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"
