////////////////////////////////////////////////////////////////////////////////
// crmbridge: adds the objects crmbridge reads and writes to the standard OData interface.
//
// Until an object is in the composition, its entity set answers 404 (platform guide 8.3,
// 17.4.12: УстановитьСоставСтандартногоИнтерфейсаOData). The call replaces the whole
// composition, so this procedure keeps what is already published and adds what is missing.
// Tabular sections (Document_…_РасшифровкаПлатежа, Document_…_Товары) come with their document.
// The same objects serve both crmbridge profiles, bas-buh (BAS Бухгалтерія) and bp30
// (1С:Бухгалтерия 3.0); docs/real-systems.md lists them with the entity sets, and
// tests/unit/test_real_systems_doc.py keeps that list, this file and the code in step.
//
// How to run it (as a user with administrative rights):
//  - Designer: File > New > External data processor; paste this procedure into the object
//    module; add a form with a command whose server handler calls
//    РеквизитФормыВЗначение("Объект").ДобавитьВСоставODataДляCrmbridge(); save the .epf and open
//    it in the infobase with File > Open;
//  - or paste the body into any "execute code" tool the infobase has.
// Check afterwards: GET <publication>/odata/standard.odata/ lists the entity sets.
////////////////////////////////////////////////////////////////////////////////

Процедура ДобавитьВСоставODataДляCrmbridge() Экспорт
	
	Нужные = Новый Массив;
	Нужные.Добавить("Справочник.Контрагенты");
	Нужные.Добавить("Справочник.ДоговорыКонтрагентов");
	Нужные.Добавить("Справочник.Номенклатура");
	Нужные.Добавить("Справочник.Организации");
	Нужные.Добавить("Справочник.Валюты");
	Нужные.Добавить("Справочник.ТипыЦенНоменклатуры");
	Нужные.Добавить("Справочник.БанковскиеСчета");
	Нужные.Добавить("Документ.СчетНаОплатуПокупателю");
	Нужные.Добавить("Документ.ПоступлениеНаРасчетныйСчет");
	Нужные.Добавить("Документ.ПриходныйКассовыйОрдер");
	Нужные.Добавить("РегистрСведений.ЦеныНоменклатуры");
	// What crmbridge's own invoice PDF prints (flows.issue_invoice.pdf: render, the default):
	// units, the bank, the legal address, and the VAT status, whose register differs by
	// configuration (one of the two is always "not in this configuration").
	Нужные.Добавить("Справочник.КлассификаторЕдиницИзмерения");
	Нужные.Добавить("Справочник.Банки");
	Нужные.Добавить("Справочник.ВидыКонтактнойИнформации");
	Нужные.Добавить("РегистрСведений.УчетнаяПолитикаОрганизаций");
	Нужные.Добавить("РегистрСведений.НастройкиСистемыНалогообложения");
	
	Состав = Новый Массив;
	Опубликовано = Новый Соответствие;
	Для Каждого Объект Из ПолучитьСоставСтандартногоИнтерфейсаOData() Цикл
		Состав.Добавить(Объект);
		Опубликовано.Вставить(Объект.ПолноеИмя(), Истина);
	КонецЦикла;
	
	Добавлены = Новый Массив;
	НеНайдены = Новый Массив;
	Для Каждого ПолноеИмя Из Нужные Цикл
		Объект = Метаданные.НайтиПоПолномуИмени(ПолноеИмя);
		Если Объект = Неопределено Тогда
			НеНайдены.Добавить(ПолноеИмя);
		ИначеЕсли Опубликовано.Получить(Объект.ПолноеИмя()) = Неопределено Тогда
			Состав.Добавить(Объект);
			Добавлены.Добавить(ПолноеИмя);
		КонецЕсли;
	КонецЦикла;
	
	Если Добавлены.Количество() > 0 Тогда
		УстановитьСоставСтандартногоИнтерфейсаOData(Состав);
	КонецЕсли;
	Сообщить("crmbridge: added to OData: " + ?(Добавлены.Количество() = 0, "nothing (all published)",
		СтрСоединить(Добавлены, ", ")));
	Если НеНайдены.Количество() > 0 Тогда
		// Expected for the other configuration's VAT register; anything else means crmbridge's
		// profile does not fit this configuration.
		Сообщить("crmbridge: not in this configuration: " + СтрСоединить(НеНайдены, ", "));
	КонецЕсли;
	
КонецПроцедуры
