////////////////////////////////////////////////////////////////////////////////
// crmbridge: signing of outgoing events per Standard Webhooks.
//
// A delivery carries three headers (spec/standard-webhooks.md, "Signature scheme"):
//   webhook-id        - the message id, the same on every retry of one message;
//   webhook-timestamp - Unix seconds of this attempt;
//   webhook-signature - "v1," + Base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
// where the key is the Base64-decoded part of the secret after "whsec_" and body is the exact
// bytes sent (UTF-8, no BOM). crmbridge checks exactly this (connectors/onec/webhooks.py) and
// refuses a timestamp more than 5 minutes away from its clock: keep the server on NTP.
//
// The platform has SHA-256 (ХешированиеДанных) but no HMAC, so HMAC (RFC 2104) is built here
// from two SHA-256 passes over the key XOR-ed with the ipad/opad blocks.
// ПроверитьТестовыеВекторы() recomputes the vectors of extensions/bas/test-vector.json; the
// HTTP service answers it at GET <publication>/hs/crm/selftest.
////////////////////////////////////////////////////////////////////////////////

#Область ПрограммныйИнтерфейс

// The headers of one delivery attempt.
//
// Parameters:
//  Идентификатор - String - webhook-id (e.g. "msg_" + UUID), stable across retries.
//  Метка         - String - webhook-timestamp, Unix seconds, see МеткаВремени().
//  Тело          - BinaryData - the body exactly as it will be sent.
//  Секрет        - String - "whsec_" + Base64 of the key.
//
// Returns:
//  Map - header name -> value.
//
Функция Заголовки(Идентификатор, Метка, Тело, Секрет) Экспорт
	
	Результат = Новый Соответствие;
	Результат.Вставить("webhook-id", Идентификатор);
	Результат.Вставить("webhook-timestamp", Метка);
	Результат.Вставить("webhook-signature", Подпись(Идентификатор, Метка, Тело, Секрет));
	Возврат Результат;
	
КонецФункции

// "v1,<Base64 HMAC-SHA256>" of id.timestamp.body.
Функция Подпись(Идентификатор, Метка, Тело, Секрет) Экспорт
	
	Части = Новый Массив;
	Части.Добавить(ПолучитьДвоичныеДанныеИзСтроки(Идентификатор + "." + Метка + ".", КодировкаТекста.UTF8, Ложь));
	Части.Добавить(Тело);
	Подписываемое = СоединитьДвоичныеДанные(Части);
	Возврат "v1," + Base64БезПереносов(HMACSHA256(КлючИзСекрета(Секрет), Подписываемое));
	
КонецФункции

// Unix seconds now, as the digits of webhook-timestamp (no group separators).
Функция МеткаВремени() Экспорт
	
	Секунд = ТекущаяУниверсальнаяДата() - Дата(1970, 1, 1, 0, 0, 0);
	Возврат Формат(Секунд, "ЧГ=0");
	
КонецФункции

// HMAC-SHA256 (RFC 2104): H((K xor opad) || H((K xor ipad) || data)), block size 64 bytes.
//
// Parameters:
//  Ключ   - BinaryData - the key.
//  Данные - BinaryData - the message.
//
// Returns:
//  BinaryData - 32 bytes.
//
Функция HMACSHA256(Знач Ключ, Данные) Экспорт
	
	РазмерБлока = 64;
	Если Ключ.Размер() > РазмерБлока Тогда
		Ключ = SHA256(Ключ);
	КонецЕсли;
	
	// The key, zero-padded to the block size (a new buffer is filled with zeros).
	БлокКлюча = Новый БуферДвоичныхДанных(РазмерБлока);
	БлокКлюча.Записать(0, ПолучитьБуферДвоичныхДанныхИзДвоичныхДанных(Ключ));
	
	Внутренний = ЗаполненныйБлок(РазмерБлока, 54); // ipad, 0x36
	Внутренний.ЗаписатьПобитовоеИсключительноеИли(0, БлокКлюча);
	Внешний = ЗаполненныйБлок(РазмерБлока, 92); // opad, 0x5C
	Внешний.ЗаписатьПобитовоеИсключительноеИли(0, БлокКлюча);
	
	ХешВнутренний = SHA256(Склеить(ПолучитьДвоичныеДанныеИзБуфераДвоичныхДанных(Внутренний), Данные));
	Возврат SHA256(Склеить(ПолучитьДвоичныеДанныеИзБуфераДвоичныхДанных(Внешний), ХешВнутренний));
	
КонецФункции

// Recomputes the signatures of extensions/bas/test-vector.json with this module.
//
// Returns:
//  Array of Structure - Имя, Ожидается, Получено, Совпадает (Boolean).
//
Функция ПроверитьТестовыеВекторы() Экспорт
	
	Результат = Новый Массив;
	// The reference vector of the Standard Webhooks libraries (test "sign function works").
	ДобавитьВектор(Результат, "standard-webhooks",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"msg_p5jXN8AQM9LWM0D4loKWxJek",
		"1614265330",
		"{""test"": 2432232314}",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	// A posted bank receipt as crmb_Очередь.ТелоСобытия builds it; Cyrillic checks UTF-8.
	ДобавитьВектор(Результат, "crmbridge",
		"whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
		"msg_5b0c2f6e-8d1a-4c3b-9e7f-1a2b3c4d5e6f",
		"1767603600",
		"{""type"":""document.posted"",""timestamp"":""2026-01-05T09:00:00Z"",""data"":{""entity_set"":""Document_ПоступлениеНаРасчетныйСчет"",""Ref_Key"":""3f1d7a22-0f5e-4c59-9d57-5a6f8f3c1b11"",""Number"":""ББ00-000017"",""Date"":""2026-01-05T10:58:31"",""Posted"":true}}",
		"v1,zxnl54TgL/ab27c+UsVP2hY5w9pdSCPXqqd9PfmgUCI=");
	Возврат Результат;
	
КонецФункции

#КонецОбласти

#Область СлужебныеПроцедурыИФункции

Процедура ДобавитьВектор(Результат, Имя, Секрет, Идентификатор, Метка, Тело, Ожидается)
	
	Попытка
		Данные = ПолучитьДвоичныеДанныеИзСтроки(Тело, КодировкаТекста.UTF8, Ложь);
		Получено = Подпись(Идентификатор, Метка, Данные, Секрет);
	Исключение
		Получено = КраткоеПредставлениеОшибки(ИнформацияОбОшибке());
	КонецПопытки;
	Результат.Добавить(Новый Структура("Имя, Ожидается, Получено, Совпадает",
		Имя, Ожидается, Получено, Получено = Ожидается));
	
КонецПроцедуры

// The key bytes of "whsec_<Base64>"; an exception for anything else.
Функция КлючИзСекрета(Секрет)
	
	Текст = СокрЛП(Секрет);
	Если СтрНачинаетсяС(Текст, "whsec_") Тогда
		Текст = Сред(Текст, 7);
	КонецЕсли;
	Ключ = Base64Значение(Текст);
	Если Ключ = Неопределено Или Ключ.Размер() = 0 Тогда
		ВызватьИсключение НСтр("ru = 'Секрет вебхуков должен иметь вид whsec_ и Base64 ключа'; uk = 'Секрет вебхуків має бути у вигляді whsec_ і Base64 ключа'");
	КонецЕсли;
	Возврат Ключ;
	
КонецФункции

Функция SHA256(Данные)
	
	Хеширование = Новый ХешированиеДанных(ХешФункция.SHA256);
	Хеширование.Добавить(Данные);
	Возврат Хеширование.ХешСумма;
	
КонецФункции

Функция ЗаполненныйБлок(Размер, Байт)
	
	Буфер = Новый БуферДвоичныхДанных(Размер);
	Для Позиция = 0 По Размер - 1 Цикл
		Буфер.Установить(Позиция, Байт);
	КонецЦикла;
	Возврат Буфер;
	
КонецФункции

Функция Склеить(Первые, Вторые)
	
	Части = Новый Массив;
	Части.Добавить(Первые);
	Части.Добавить(Вторые);
	Возврат СоединитьДвоичныеДанные(Части);
	
КонецФункции

// Base64Строка wraps long output into lines; a 32-byte digest fits one line, but strip anyway.
Функция Base64БезПереносов(Данные)
	
	Возврат СтрЗаменить(СтрЗаменить(Base64Строка(Данные), Символы.ВК, ""), Символы.ПС, "");
	
КонецФункции

#КонецОбласти
