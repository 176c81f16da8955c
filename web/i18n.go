package web

import (
	"fmt"
	"net/http"
	"strings"
)

// Languages the API localises its error messages into; the first is the
// default. The UI sends Accept-Language with the language it shows.
const (
	LangEN = "en"
	LangZH = "zh-CN"
)

// message is one API error text in every language, as fmt formats.
type message struct{ en, zh string }

// messages is the catalog of API errors by code. Every error the API
// writes has a code here (a test checks that each has both languages).
var messages = map[string]message{
	// generic
	"not_found":          {"no such API route", "没有这个 API 路径"},
	"method_not_allowed": {"method %s is not allowed here", "此处不允许方法 %s"},
	"internal":           {"internal error", "内部错误"},
	"unavailable":        {"%s is not available", "%s 不可用"},
	"bad_json":           {"the request body is not valid JSON: %s", "请求内容不是有效的 JSON：%s"},
	"bad_content_type":   {"the request body must be application/json", "请求内容必须是 application/json"},
	"body_too_large":     {"the request body is larger than %d bytes", "请求内容超过 %d 字节"},
	// authentication and authorisation
	"unauthenticated": {"not logged in (or the session expired): log in or send a bearer token", "未登录（或会话已过期）：请登录或发送令牌"},
	"bad_token":       {"invalid bearer token", "无效的访问令牌"},
	"forbidden":       {"your role does not allow this", "您的角色无权执行此操作"},
	"csrf":            {"request refused: missing or wrong CSRF token or origin; reload the page", "请求被拒绝：CSRF 令牌或来源缺失或错误，请刷新页面"},
	"bad_credentials": {"wrong user name or password", "用户名或密码错误"},
	"locked_out":      {"too many failed attempts; try again in %d s", "失败次数过多，请在 %d 秒后重试"},
	"setup_token":     {"the setup link is wrong or was used already", "设置链接错误或已被使用"},
	"setup_done":      {"the gateway is set up already; log in", "网关已完成设置，请登录"},
	// users and tokens
	"bad_user_name":  {"user name must be 1 to 32 letters, digits, '.', '_' or '-'", "用户名须为 1 至 32 个字母、数字、“.”、“_”或“-”"},
	"bad_password":   {"password must be %d to %d characters and differ from the user name", "密码长度须为 %d 至 %d 个字符，且不能与用户名相同"},
	"bad_role":       {"role must be admin or viewer", "角色必须是 admin 或 viewer"},
	"user_exists":    {"user %q exists already", "用户 %q 已存在"},
	"no_user":        {"no user %q", "没有用户 %q"},
	"last_admin":     {"the last admin cannot be removed or demoted", "不能删除或降级最后一个管理员"},
	"wrong_password": {"the current password is wrong", "当前密码错误"},
	"bad_token_name": {"token name must be 1 to 64 characters of A-Z a-z 0-9 . _ - and not used yet", "令牌名称须为 1 至 64 个 A-Z a-z 0-9 . _ - 字符且未被使用"},
	"bad_scope":      {"scope must be read or control", "权限范围必须是 read 或 control"},
	"no_token":       {"no token %q", "没有令牌 %q"},

	// CoAP appliances
	"bad_appliance_name": {"appliance name must be 1 to 64 characters", "设备名称须为 1 至 64 个字符"},
	"no_appliance":       {"no appliance %q", "没有设备 %q"},

	// query parameters
	"required":       {"%s is required", "缺少 %s"},
	"bad_time":       {"%s: malformed time %q (want RFC 3339, e.g. 2026-11-21T12:00:00Z)", "%s：时间格式错误 %q（应为 RFC 3339，例如 2026-11-21T12:00:00Z）"},
	"from_after_to":  {"from must be before to", "开始时间必须早于结束时间"},
	"range_too_long": {"the range is longer than %s", "时间范围超过 %s"},
	"bad_int":        {"%s must be an integer 1..%d, not %q", "%s 必须是 1..%d 的整数，而不是 %q"},
	"unknown_series": {"unknown device or quantity", "未知的设备或数据项"},
	"bad_step":       {"step must be one of %s", "step 必须是 %s 之一"},
	"not_counter":    {"%s is not a counter", "%s 不是计数器"},
	"too_many_steps": {"the range holds more than %d steps", "时间范围内超过 %d 个步长"},
	"bad_tier":       {"tier must be raw, minute, quarter or day", "tier 必须是 raw、minute、quarter 或 day"},
	"bad_format":     {"format must be csv or json, not %q", "format 必须是 csv 或 json，而不是 %q"},
	"too_long":       {"%s is too long", "%s 过长"},
	// tariff and DR
	"no_tariff":        {"no tariff is configured", "尚未配置电价"},
	"no_data":          {"no meter readings are stored for this range yet", "此时间范围内尚无电表读数"},
	"invalid_tariff":   {"the tariff has %d problem(s); nothing was changed", "电价配置有 %d 个问题，未做任何更改"},
	"dr_unavailable":   {"the demand-response engine is not active on this gateway", "本网关未启用需求响应引擎"},
	"dr_not_found":     {"no DR event or device %q", "没有需求响应事件或设备 %q"},
	"device_not_found": {"no device %q", "没有设备 %q"},
	"ble_not_found":    {"BLE device %s has not been heard nearby lately", "最近未在附近收到蓝牙设备 %s 的广播"},
	"ble_not_adopted":  {"%s is not an adopted BLE device", "%s 不是已添加的蓝牙设备"},
	"ble_adopted":      {"this BLE device is adopted already", "该蓝牙设备已添加"},
	"ble_no_adapter":   {"no BLE adapter", "没有蓝牙适配器"},
	"ble_disabled":     {"BLE is off (han.ble.enabled)", "蓝牙未启用 (han.ble.enabled)"},
	"ble_key":          {"the key is wrong: it must be 32 hex digits that decrypt the device's data", "密钥错误：必须是能解密该设备数据的 32 位十六进制数"},
	"ble_key_required": {"this device encrypts its data: enter its key", "该设备的数据已加密：请输入其密钥"},
	"bad_mac":          {"%q is not a MAC address (AA:BB:CC:DD:EE:FF)", "%q 不是 MAC 地址 (AA:BB:CC:DD:EE:FF)"},
	"not_ble_device":   {"%s is not a BLE device: only adopted BLE devices can be removed", "%s 不是蓝牙设备：只能移除已添加的蓝牙设备"},
	"bad_adoption":     {"adoption: %s", "添加设备: %s"},
	"ble_failed":       {"BLE: %s", "蓝牙: %s"},
	"bad_limit":        {"limit_w: %s", "limit_w：%s"},
	"bad_command":      {"kind must be on, off, limit or normal, not %q", "kind 必须是 on、off、limit 或 normal，而不是 %q"},
	"not_capable":      {"device %q cannot do %q", "设备 %q 不支持 %q"},
	"device_offline":   {"device %q is offline", "设备 %q 离线"},
	"command_failed":   {"device %q did not carry out the command; see the events log", "设备 %q 未执行该命令；请查看事件日志"},
	"meter_read_only":  {"the electricity meter is read-only", "电能表为只读"},
	"dr_conflict":      {"not possible now: %s", "当前无法执行：%s"},
	"bad_boost":        {"boost_minutes must be 0 to %d", "boost_minutes 必须在 0 到 %d 之间"},

	// HomeKit
	"homekit_unavailable": {"HomeKit is not available on this gateway", "本网关不支持 HomeKit"},
}

// lang picks the response language from Accept-Language: zh-CN for any
// Chinese preference that comes before an English one, else English.
func lang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(q) == "q=0" {
			continue
		}
		tag = strings.ToLower(strings.TrimSpace(tag))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return LangZH
		case strings.HasPrefix(tag, "en"):
			return LangEN
		}
	}
	return LangEN
}

// localize renders the message code in language l.
func localize(l, code string, args ...any) string {
	m, ok := messages[code]
	if !ok {
		return code
	}
	f := m.en
	if l == LangZH {
		f = m.zh
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}
